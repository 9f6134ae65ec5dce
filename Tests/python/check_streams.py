"""Checks a track's adaptive streams the way real clients read them.

Usage: check_streams.py HLS_MASTER_URL DASH_MPD_URL NOMINAL_KBPS[,NOMINAL_KBPS...]

Parses the HLS multivariant and media playlists with the `m3u8` package and the MPD with `mpegdash`,
fetches every segment, and prints one JSON object: per variant its measured bit rate (bytes of its
segments over their duration) and the playlist facts the Swift test asserts on.
"""
import json
import sys
import urllib.request

import m3u8
from mpegdash.parser import MPEGDASHParser


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def first_tfdt(segment):
    """baseMediaDecodeTime of the first 'tfdt' box in a CMAF segment."""
    index = segment.find(b"tfdt")
    if index < 0:
        return None
    version = segment[index + 4]
    start = index + 8
    return int.from_bytes(segment[start:start + (8 if version == 1 else 4)], "big")


def main():
    master_url, mpd_url, nominal = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
    master = m3u8.loads(fetch(master_url).decode(), uri=master_url)
    report = {"is_variant": master.is_variant, "variants": []}
    for playlist, kbps in zip(sorted(master.playlists, key=lambda p: p.stream_info.bandwidth), nominal):
        media = m3u8.loads(fetch(playlist.absolute_uri).decode(), uri=playlist.absolute_uri)
        bodies = [fetch(segment.absolute_uri) for segment in media.segments]
        size = sum(len(body) for body in bodies)
        duration = sum(segment.duration for segment in media.segments)
        report["variants"].append({
            "nominal_kbps": kbps,
            "measured_kbps": size * 8 / duration / 1000,
            "bandwidth": playlist.stream_info.bandwidth,
            "average_bandwidth": playlist.stream_info.average_bandwidth,
            "codecs": playlist.stream_info.codecs,
            "playlist_type": media.playlist_type,
            "endlist": media.is_endlist,
            "has_map": bool(media.segment_map),
            "target_duration": media.target_duration,
            "segment_durations": [segment.duration for segment in media.segments],
            "first_tfdt": first_tfdt(bodies[0]),
            "init_has_edit_list": b"elst" in fetch(media.segment_map[0].absolute_uri),
            "timescale_hint": 48000,
        })
    mpd = MPEGDASHParser.parse(fetch(mpd_url).decode())
    representations = [r for period in mpd.periods for a in period.adaptation_sets for r in a.representations]
    report["dash"] = {
        "type": mpd.type,
        "duration": mpd.media_presentation_duration,
        "representations": [{"id": r.id, "bandwidth": r.bandwidth, "codecs": r.codecs} for r in representations],
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()

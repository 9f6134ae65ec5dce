"""Checks a track's adaptive streams the way real clients read them.

Usage: check_streams.py HLS_MASTER_URL DASH_MPD_URL NOMINAL_KBPS[,NOMINAL_KBPS...]

Parses the HLS multivariant and media playlists with the `m3u8` package and the MPD with `mpegdash`,
fetches every init and media segment each of them lists (DASH segment URLs are expanded from the
SegmentTemplate), reads the segments' own MP4 boxes (the track's timescale from `mdhd`, each
fragment's start from `tfdt` and its length from `trun`), and prints one JSON object with, per HLS
variant and per DASH representation, the declared facts, the measured bit rate (bytes of the media
segments over their duration as the samples count it) and the segment durations. Nothing about the
timescale is assumed: it comes from the init segment and from the MPD.
"""
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

import m3u8
from mpegdash.parser import MPEGDASHParser

CONTAINERS = {"moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf"}


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def status(url):
    """The HTTP status a GET of `url` answers with."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def boxes(data, start=0, end=None):
    """(type, payload start, box end) of each ISO BMFF box in data[start:end]."""
    end = len(data) if end is None else end
    index = start
    while index + 8 <= end:
        size = int.from_bytes(data[index:index + 4], "big")
        kind = data[index + 4:index + 8].decode("latin-1")
        header = 8
        if size == 1:
            size = int.from_bytes(data[index + 8:index + 16], "big")
            header = 16
        elif size == 0:
            size = end - index
        if size < header:
            raise ValueError(f"bad box size {size} at {index}")
        yield kind, index + header, index + size
        index += size


def walk(data, start=0, end=None):
    """Every box, depth first, descending into the container boxes."""
    for kind, payload, box_end in boxes(data, start, end):
        yield kind, payload, box_end
        if kind in CONTAINERS:
            yield from walk(data, payload, box_end)


def u32(data, offset):
    return int.from_bytes(data[offset:offset + 4], "big")


def u64(data, offset):
    return int.from_bytes(data[offset:offset + 8], "big")


def init_facts(data):
    """The media timescale (mdhd) and the default sample duration (trex) of an init segment."""
    timescale = None
    default_duration = None
    for kind, payload, _ in walk(data):
        if kind == "mdhd":
            version = data[payload]
            timescale = u32(data, payload + (20 if version == 1 else 12))
        elif kind == "trex":
            default_duration = u32(data, payload + 12)
    return {"timescale": timescale, "default_sample_duration": default_duration, "has_edit_list": b"elst" in data}


def fragment_facts(data, trex_duration):
    """The first fragment's decode time (tfdt) and the duration of every sample in the segment, in media timescale units."""
    first_tfdt = None
    total = 0
    samples = 0
    for kind, payload, box_end in boxes(data):
        if kind != "moof":
            continue
        for traf_kind, traf_payload, traf_end in boxes(data, payload, box_end):
            if traf_kind != "traf":
                continue
            default_duration = trex_duration
            for child, start, _ in boxes(data, traf_payload, traf_end):
                flags = int.from_bytes(data[start + 1:start + 4], "big")
                if child == "tfhd":
                    offset = start + 8 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
                    if flags & 0x8:
                        default_duration = u32(data, offset)
                elif child == "tfdt":
                    time = u64(data, start + 4) if data[start] == 1 else u32(data, start + 4)
                    first_tfdt = time if first_tfdt is None else first_tfdt
                elif child == "trun":
                    count = u32(data, start + 4)
                    offset = start + 8 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
                    per_sample = sum(4 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
                    for sample in range(count):
                        if flags & 0x100:
                            total += u32(data, offset + sample * per_sample)
                        else:
                            total += default_duration
                    samples += count
    return {"first_tfdt": first_tfdt, "duration_units": total, "samples": samples}


def media_facts(init, bodies):
    """Timing of a run of media segments read from their boxes: durations in seconds, tfdt continuity."""
    facts = init_facts(init)
    timescale = facts["timescale"]
    fragments = [fragment_facts(body, facts["default_sample_duration"]) for body in bodies]
    durations = [f["duration_units"] / timescale for f in fragments]
    # Each segment starts where the ones before it ended: no gaps, no overlaps.
    expected, continuous = 0, True
    for fragment in fragments:
        if fragment["first_tfdt"] != expected:
            continuous = False
        expected = (fragment["first_tfdt"] or 0) + fragment["duration_units"]
    size = sum(len(body) for body in bodies)
    total = sum(durations)
    return {
        "timescale": timescale,
        "init_has_edit_list": facts["has_edit_list"],
        "first_tfdt": fragments[0]["first_tfdt"] if fragments else None,
        "tfdt_continuous": continuous,
        "media_durations": durations,
        "measured_kbps": size * 8 / total / 1000 if total else 0,
    }


def iso_seconds(text):
    """Seconds of an ISO 8601 duration like PT1H2M3.5S."""
    match = re.fullmatch(r"PT(?:([\d.]+)H)?(?:([\d.]+)M)?(?:([\d.]+)S)?", text or "")
    if not match:
        return None
    hours, minutes, seconds = (float(x) if x else 0.0 for x in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def expand(template, representation, number):
    """A SegmentTemplate URL with $RepresentationID$, $Bandwidth$ and $Number$ (with an optional %0Nd width) filled in."""
    def number_field(match):
        width = match.group(1)
        return (width % number) if width else str(number)

    url = template.replace("$RepresentationID$", str(representation.id)).replace("$Bandwidth$", str(representation.bandwidth))
    return re.sub(r"\$Number(%0\d+d)?\$", number_field, url).replace("$$", "$")


def dash_report(mpd_url):
    mpd = MPEGDASHParser.parse(fetch(mpd_url).decode())
    presentation = iso_seconds(mpd.media_presentation_duration)
    representations = []
    for period in mpd.periods:
        for adaptation in period.adaptation_sets:
            for representation in adaptation.representations:
                templates = representation.segment_templates or adaptation.segment_templates
                template = templates[0]
                timescale = int(template.timescale or 1)
                segment_seconds = int(template.duration) / timescale
                start = int(template.start_number if template.start_number is not None else 1)
                count = -(-round(presentation * 1000) // round(segment_seconds * 1000))  # ceiling
                init = fetch(urllib.parse.urljoin(mpd_url, expand(template.initialization, representation, 0)))
                urls = [urllib.parse.urljoin(mpd_url, expand(template.media, representation, n)) for n in range(start, start + count)]
                bodies = [fetch(url) for url in urls]
                after = urllib.parse.urljoin(mpd_url, expand(template.media, representation, start + count))
                entry = {
                    "id": representation.id,
                    "bandwidth": representation.bandwidth,
                    "codecs": representation.codecs or adaptation.codecs,
                    "mime_type": representation.mime_type or adaptation.mime_type,
                    "audio_sampling_rate": representation.audio_sampling_rate or adaptation.audio_sampling_rate,
                    "template_timescale": timescale,
                    "template_segment_seconds": segment_seconds,
                    "segment_count": count,
                    # The MPD's count is exactly what exists: the next number is not there.
                    "status_after_last": status(after),
                }
                entry.update(media_facts(init, bodies))
                representations.append(entry)
    return {"type": mpd.type, "duration_seconds": presentation, "representations": representations}


def main():
    master_url, mpd_url, nominal = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
    master = m3u8.loads(fetch(master_url).decode(), uri=master_url)
    report = {"is_variant": master.is_variant, "variants": []}
    for playlist, kbps in zip(sorted(master.playlists, key=lambda p: p.stream_info.bandwidth), nominal):
        media = m3u8.loads(fetch(playlist.absolute_uri).decode(), uri=playlist.absolute_uri)
        bodies = [fetch(segment.absolute_uri) for segment in media.segments]
        init = fetch(media.segment_map[0].absolute_uri) if media.segment_map else b""
        variant = {
            "nominal_kbps": kbps,
            "bandwidth": playlist.stream_info.bandwidth,
            "average_bandwidth": playlist.stream_info.average_bandwidth,
            "codecs": playlist.stream_info.codecs,
            "playlist_type": media.playlist_type,
            "endlist": media.is_endlist,
            "has_map": bool(media.segment_map),
            "target_duration": media.target_duration,
            "segment_durations": [segment.duration for segment in media.segments],
        }
        variant.update(media_facts(init, bodies))
        report["variants"].append(variant)
    report["dash"] = dash_report(mpd_url)
    print(json.dumps(report))


if __name__ == "__main__":
    main()

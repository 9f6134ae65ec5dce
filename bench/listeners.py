"""Listener simulator (not a test): N virtual listeners play HLS the way an ABR player does.

Usage: listeners.py BASE_URL TRACK_IDS_FILE --listeners N --seconds S [--ramp R] [--server-pid PID]
                    [--media-base URL]

Each listener registers (once per run) and logs in once, then repeatedly:
picks a track by a Zipf law, calls GET /api/v1/tracks/{id}/stream, fetches the HLS master, picks a
variant (the middle one first), fetches the init segment and then media segments at playback pace: two
segments ahead, then each one when the playhead reaches the one before it. After each segment it adapts:
down a variant when a fetch took over half a segment's duration, up when it took under a tenth.

Reports stream-start latency (stream request to first media byte), segment fetch latency, stalls (a
segment that arrived after its playback deadline), errors, and the server's CPU and RSS, as JSON.
Loopback only; bounded by --seconds; stops by itself.

Media requests (everything fetched from the `hls` URL: playlists, init and media segments; not the API's
stream call) are also classified by where they were answered, for runs behind a caching edge
(`encore edge-config`), whose media responses carry `X-Cache-Status` (HIT, MISS, EXPIRED, ...) and
`X-Edge-Auth` (HIT when the edge answered the token check from its own cache):
  media_requests           media responses received (any status);
  edge_hits                those with `X-Cache-Status: HIT`; edge_hit_ratio = edge_hits / media_requests;
  origin_media_requests    media responses that were not HITs (all of them when no edge is in the way,
                           i.e. there is no `X-Cache-Status`; an edge's own refusals carry none either);
  origin_auth_checks       edge responses whose token check went to the origin (`X-Edge-Auth` not HIT);
  origin_requests          the sum of those two, also as origin_requests_per_s over the run's wall time
                           (elapsed_s: from the first listener's start until the last one stopped);
  cache_statuses, edge_auth_statuses   counts of each header value ("none" when absent).
--media-base URL replaces the scheme, host and port of the `hls` URL the API hands out (e.g. to fetch
media from Encore itself when Encore hands out an edge's URLs: same tokens, same keys).
"""
import argparse
import asyncio
import json
import os
import random
import time
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import aiohttp


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Stats:
    def __init__(self):
        self.starts, self.segments, self.errors, self.stalls, self.switches, self.plays = [], [], 0, 0, 0, 0
        self.error_samples = []
        self.cache_statuses, self.edge_auth_statuses = Counter(), Counter()
        self.origin_media, self.origin_auth = 0, 0

    def media(self, headers):
        """Classifies one media response by its edge headers."""
        cache = headers.get("X-Cache-Status")
        self.cache_statuses[cache or "none"] += 1
        if cache != "HIT":
            self.origin_media += 1
        if cache is not None:
            auth = headers.get("X-Edge-Auth")
            self.edge_auth_statuses[auth or "none"] += 1
            if auth != "HIT":
                self.origin_auth += 1

    def error(self, what):
        self.errors += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(what)


def zipf_choice(rng, items, s=1.1):
    weights = [1 / (rank ** s) for rank in range(1, len(items) + 1)]
    return rng.choices(items, weights=weights)[0]


def parse_master(text):
    variants, bandwidth = [], None
    for line in text.splitlines():
        if line.startswith("#EXT-X-STREAM-INF:"):
            bandwidth = int(line.split("BANDWIDTH=")[1].split(",")[0])
        elif line and not line.startswith("#") and bandwidth is not None:
            variants.append((bandwidth, line))
            bandwidth = None
    return sorted(variants)


def parse_media(text):
    init, segments, duration = None, [], None
    for line in text.splitlines():
        if line.startswith("#EXT-X-MAP:URI="):
            init = line.split('"')[1]
        elif line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#") and duration is not None:
            segments.append((duration, line))
            duration = None
    return init, segments


def resolve(base, relative):
    return base.rsplit("/", 1)[0] + "/" + relative


def rebase(url, base):
    """url with its scheme, host and port replaced by base's."""
    if not base:
        return url
    parts, new = urlsplit(url), urlsplit(base)
    return urlunsplit((new.scheme, new.netloc, parts.path, parts.query, parts.fragment))


async def fetch(session, url, stats=None, **kwargs):
    """GETs url; with stats, it is a media request and is classified by its edge headers."""
    async with session.get(url, **kwargs) as response:
        if stats is not None:
            stats.media(response.headers)
        body = await response.read()
        if response.status >= 400:
            raise RuntimeError(f"{response.status} {url.split('?')[0][-60:]}")
        return body


async def listener(index, args, tracks, stats, stop_at, rng):
    connector = aiohttp.TCPConnector(limit=4, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        account = {"email": f"listener-{index}@bench.invalid", "password": "listening all day"}
        try:
            async with session.post(f"{args.base}/api/v1/auth/register", json={**account, "displayName": f"Listener {index}", "role": "listener"}) as response:
                await response.read()
            async with session.post(f"{args.base}/api/v1/auth/login", json=account) as response:
                token = (await response.json())["token"]
        except Exception as error:  # noqa: BLE001 - every failure is counted
            stats.error(f"login: {error}")
            return
        headers = {"Authorization": f"Bearer {token}"}
        while time.monotonic() < stop_at:
            track = zipf_choice(rng, tracks)
            started = time.monotonic()
            try:
                grant = json.loads(await fetch(session, f"{args.base}/api/v1/tracks/{track}/stream", headers=headers))
                master_url = rebase(grant["hls"], args.media_base)
                variants = parse_master((await fetch(session, master_url, stats)).decode())
                level = len(variants) // 2
                media_url = resolve(master_url, variants[level][1])
                init, segments = parse_media((await fetch(session, media_url, stats)).decode())
                await fetch(session, resolve(media_url, init), stats)
                stats.starts.append(time.monotonic() - started)  # first media byte: the init segment
                stats.plays += 1
            except Exception as error:  # noqa: BLE001
                stats.error(f"start: {error}")
                await asyncio.sleep(1)
                continue
            # Playback starts once two segments are in; segment n (n >= 2) must then arrive before the
            # playhead reaches it (start + the media before it), and is fetched two segments ahead of that.
            playback_start = None
            before = 0.0
            for number, (duration, uri) in enumerate(segments):
                if time.monotonic() >= stop_at:
                    return
                if playback_start is not None:
                    delay = playback_start + max(0.0, before - 2 * duration) - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(min(delay, max(0.0, stop_at - time.monotonic())))
                        if time.monotonic() >= stop_at:
                            return
                url = resolve(media_url, uri)
                began = time.monotonic()
                try:
                    await fetch(session, url, stats)
                except Exception as error:  # noqa: BLE001
                    stats.error(f"segment: {error}")
                    break
                arrived = time.monotonic()
                took = arrived - began
                stats.segments.append(took)
                if number == 1:
                    playback_start = arrived
                elif playback_start is not None and arrived > playback_start + before:
                    stats.stalls += 1
                before += duration
                # Adapt the way an ABR player does.
                new_level = level
                if took > duration * 0.5 and level > 0:
                    new_level = level - 1
                elif took < duration * 0.1 and level < len(variants) - 1:
                    new_level = level + 1
                if new_level != level:
                    level = new_level
                    stats.switches += 1
                    media_url = resolve(master_url, variants[level][1])
                    try:
                        init, _ = parse_media((await fetch(session, media_url, stats)).decode())
                        await fetch(session, resolve(media_url, init), stats)
                    except Exception as error:  # noqa: BLE001
                        stats.error(f"switch: {error}")
                        break


async def sample_server(pid, stop_at, samples):
    ticks = os.sysconf("SC_CLK_TCK")
    previous = None
    while time.monotonic() < stop_at:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().split(")")[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / ticks
            with open(f"/proc/{pid}/status") as f:
                rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
            now = time.monotonic()
            if previous:
                samples.append(((cpu - previous[1]) / (now - previous[0]) * 100, rss))
            previous = (now, cpu)
        except (FileNotFoundError, StopIteration):
            break
        await asyncio.sleep(1)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("tracks")
    parser.add_argument("--listeners", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--ramp", type=float, default=20)
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--media-base", help="fetch media from this scheme://host:port instead of the hls URL's")
    args = parser.parse_args()
    tracks = [line.strip() for line in open(args.tracks) if line.strip()]
    stats, samples = Stats(), []
    rng = random.Random(7)
    began = time.monotonic()
    stop_at = began + args.seconds
    tasks = []
    if args.server_pid:
        tasks.append(asyncio.create_task(sample_server(args.server_pid, stop_at, samples)))
    for index in range(args.listeners):
        tasks.append(asyncio.create_task(listener(index, args, tracks, stats, stop_at, random.Random(index))))
        await asyncio.sleep(args.ramp / max(args.listeners, 1))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - began
    media = sum(stats.cache_statuses.values())
    hits = stats.cache_statuses["HIT"]
    origin = stats.origin_media + stats.origin_auth
    ms = lambda v: None if v is None else round(v * 1000, 2)  # noqa: E731
    print(json.dumps({
        "listeners": args.listeners, "seconds": args.seconds, "plays": stats.plays, "segments": len(stats.segments),
        "start_p50_ms": ms(percentile(stats.starts, 0.5)), "start_p95_ms": ms(percentile(stats.starts, 0.95)),
        "start_p99_ms": ms(percentile(stats.starts, 0.99)), "segment_p50_ms": ms(percentile(stats.segments, 0.5)),
        "segment_p99_ms": ms(percentile(stats.segments, 0.99)), "stalls": stats.stalls, "errors": stats.errors,
        "switches": stats.switches, "error_samples": stats.error_samples,
        "server_cpu_avg_pct": round(sum(s[0] for s in samples) / len(samples), 1) if samples else None,
        "server_rss_max_mb": round(max(s[1] for s in samples), 1) if samples else None,
        "elapsed_s": round(elapsed, 2), "media_requests": media, "edge_hits": hits,
        "edge_hit_ratio": round(hits / media, 4) if media else None,
        "origin_media_requests": stats.origin_media, "origin_auth_checks": stats.origin_auth,
        "origin_requests": origin, "origin_requests_per_s": round(origin / elapsed, 2) if elapsed > 0 else None,
        "cache_statuses": dict(stats.cache_statuses), "edge_auth_statuses": dict(stats.edge_auth_statuses),
    }))


if __name__ == "__main__":
    asyncio.run(main())

"""Listener simulator (not a test): N virtual listeners play HLS the way an ABR player does.

Usage: listeners.py BASE_URL TRACK_IDS_FILE --listeners N (--seconds S | --steady S) [--ramp R] [--settle S]
                    [--accounts A] [--processes P] [--server-pid PID] [--media-base URL] [--sample-every S]
                    [--lag-interval S] [--loop asyncio|uvloop|auto]

Processes. The parent forks P worker processes (--processes; default: one per 3,500 listeners, at least
one, at most cores + 1), each an asyncio loop with its share of the listeners, and merges their results;
the parent itself only samples /proc (the server's and the workers' CPU, RSS, open fds) every
--sample-every seconds (default 2) and exactly at the edges of the steady window.

Accounts. Listeners share --accounts accounts (default 200; listener i uses account i mod A). Each worker
registers (or, when the account already exists, logs in) the accounts of its own listeners once, before
any listener starts, so bcrypt is not part of what is measured; every listener of an account uses that
account's token.

Timeline. Listener i (of N) starts at t0 + R * i / N (--ramp R, default 20 s), so starts are spread
evenly over the ramp. With --steady S (what bench/load.sh uses) the measured steady window begins
--settle seconds (default 0) after the ramp and lasts S seconds; listeners stop when it ends. With
--seconds S instead (bench/edge.sh), listeners stop S seconds after t0 and the steady window is whatever
follows ramp + settle.

Each listener holds one keep-alive connection per host it talks to (its own aiohttp connector,
limit_per_host=1: the API and the media, on one host without an edge, share that one connection, as a
player's would), then repeatedly: picks a track by a Zipf law, calls GET /api/v1/tracks/{id}/stream,
fetches the HLS master, picks a variant (the middle one first), fetches its playlist and init segment and
then media segments at playback pace: two segments ahead, then each one when the playhead reaches the
one before it. After each segment it adapts: down a variant when a fetch took over half a segment's
duration, up when it took under a tenth.

Measures (whole run at the top level, and per phase under "steady" and "ramp"):
  stream start   the API stream call to the first media byte (the variant's init segment, fully read:
                 it is a few hundred bytes); stream_api is the API call alone;
  segment fetch  request sent to the last byte read;
  stalls         a media segment that arrived after its playback deadline (the playhead reached it).
                 Each stall keeps how late its request was issued (the listener's own timer firing late:
                 the client's fault) and how long the fetch took (the server's, or the client's when its
                 loop is saturated: see the lag figures); stalls_client counts those whose issue lateness
                 was the larger part, stalls_server the others;
  errors         any failed request or unexpected answer, by kind, with up to 20 samples;
  client lag     how late the simulator's own timers fire: every worker runs a probe that sleeps
                 --lag-interval (0.1 s) again and again and records how late it woke (lag_*), and every
                 listener's pacing sleep records its lateness too (timer_late_*). A p99 of a few ms means
                 the client kept up; hundreds of ms mean the client, not the server, is the bottleneck.
                 Workers freeze what exists after sign-in out of Python's cyclic GC and collect rarely
                 (a full collection over 10,000 listeners' objects paused a worker for hundreds of ms);
                 full collections and their longest pause are reported (client.gc_full_*);
  CPU            server and client (all workers plus the parent) user+sys CPU over the steady window and
                 the whole run, in cores (CPU seconds per wall second), from /proc/PID/stat;
  server RSS     sampled every --sample-every s: min/max, the first and last sample of the steady window,
                 max - min and a least-squares slope (MB/min) over that window; open fds likewise;
  machine        the whole machine's busy cores over the window (/proc/stat), its interrupt share, and
                 what is left after the server, the client and interrupts: other work sharing the cores.
--loop asyncio (default) or uvloop (or auto: uvloop when installed) picks the workers' event loop.

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

Loopback only; bounded (listeners stop at the end of the run, stragglers are cancelled 40 s later);
stops by itself. Prints one JSON object.
"""
import argparse
import asyncio
import gc
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import random
import sys
import time
import traceback
from array import array
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import aiohttp

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
RAMP, STEADY, AFTER = 0, 1, 2  # phases of the run, by when an event began
PHASES = ("ramp", "steady", "after")


def percentile(ordered, p):
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def ms(value):
    return None if value is None else round(value * 1000, 2)


def zipf_weights(count, s=1.1):
    return [1 / (rank ** s) for rank in range(1, count + 1)]


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


# ---------------------------------------------------------------------------------------------- worker


class Recorder:
    """One worker's measurements. Latencies are kept raw, as (time it began, value) pairs, for the parent
    to merge and cut by phase; counters are kept per phase."""

    def __init__(self, worker):
        self.worker = worker
        self.ws = self.we = math.inf
        self.series = {name: (array("d"), array("d")) for name in ("start", "api", "segment", "timer", "lag", "join")}
        self.counts = [Counter() for _ in PHASES]
        self.errors = [Counter() for _ in PHASES]
        self.error_samples, self.stall_samples = [], []
        self.cache_statuses, self.edge_auth_statuses = Counter(), Counter()
        self.origin_media = self.origin_auth = 0

    def phase(self, t):
        return RAMP if t < self.ws else STEADY if t < self.we else AFTER

    def add(self, name, t, value):
        times, values = self.series[name]
        times.append(t)
        values.append(value)

    def count(self, what, t, n=1):
        self.counts[self.phase(t)][what] += n

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

    def error(self, kind, what, t=None):
        t = time.monotonic() if t is None else t
        self.errors[self.phase(t)][kind] += 1
        if len(self.error_samples) < 20:
            self.error_samples.append({"t": t, "worker": self.worker, "kind": kind, "error": str(what)[:300]})

    def stall(self, t, **detail):
        cause = "client" if detail["issue_late_s"] > detail["fetch_s"] else "server"
        self.count("stalls", t)
        self.count("stalls_" + cause, t)
        if len(self.stall_samples) < 20:
            self.stall_samples.append({"t": t, "worker": self.worker, "cause": cause,
                                       **{k.replace("_s", "_ms"): ms(v) for k, v in detail.items()}})


async def fetch(session, url, rec=None, **kwargs):
    """GETs url and reads the whole body; with rec, it is a media request and is classified by its edge headers."""
    async with session.get(url, **kwargs) as response:
        if rec is not None:
            rec.media(response.headers)
        body = await response.read()
        if response.status >= 400:
            raise RuntimeError(f"{response.status} {url.split('?')[0][-60:]}: {body[:120]!r}")
        return body


async def sign_in(session, base, index):
    """Registers account `index` (or logs in when it exists already); returns its token."""
    account = {"email": f"listener-{index}@bench.invalid", "password": "listening all day"}
    async with session.post(f"{base}/api/v1/auth/register", json={**account, "displayName": f"Listener {index}", "role": "listener"}) as response:
        body = await response.read()
        if response.status < 300:
            return json.loads(body)["token"]
    async with session.post(f"{base}/api/v1/auth/login", json=account) as response:
        body = await response.read()
        if response.status >= 300:
            raise RuntimeError(f"login {response.status}: {body[:200]!r}")
        return json.loads(body)["token"]


async def listener(index, start_at, token, cfg, rec, stop_at):
    rng = random.Random(index)
    tracks, weights = cfg["tracks"], cfg["weights"]
    delay = start_at - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    rec.add("join", start_at, time.monotonic() - start_at)
    opened = [0]

    async def connection_opened(*_):
        rec.count("connections", time.monotonic())
        opened[0] += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(connection_opened)
    # One keep-alive connection per host, as a player has; kept well past the time between segments.
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=1, keepalive_timeout=120, enable_cleanup_closed=False)
    headers = {"Authorization": f"Bearer {token}"}
    base, media_base = cfg["base"], cfg["media_base"]
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30), trace_configs=[trace]) as session:
        while time.monotonic() < stop_at:
            track = rng.choices(tracks, weights=weights)[0]
            started = time.monotonic()
            try:
                grant = json.loads(await fetch(session, f"{base}/api/v1/tracks/{track}/stream", headers=headers))
                rec.add("api", started, time.monotonic() - started)
                master_url = rebase(grant["hls"], media_base)
                variants = parse_master((await fetch(session, master_url, rec)).decode())
                level = len(variants) // 2
                media_url = resolve(master_url, variants[level][1])
                init, segments = parse_media((await fetch(session, media_url, rec)).decode())
                await fetch(session, resolve(media_url, init), rec)
                rec.add("start", started, time.monotonic() - started)  # first media byte: the init segment
                rec.count("plays", started)
            except Exception as error:  # noqa: BLE001 - every failure is counted
                rec.error("start", f"{type(error).__name__}: {error}")
                await asyncio.sleep(1)
                continue
            # Playback starts once two segments are in; segment n (n >= 2) must then arrive before the
            # playhead reaches it (start + the media before it), and is fetched two segments ahead of that.
            playback_start = None
            before = 0.0
            for number, (duration, uri) in enumerate(segments):
                if time.monotonic() >= stop_at:
                    return
                target = None
                if playback_start is not None:
                    target = playback_start + max(0.0, before - 2 * duration)
                    delay = target - time.monotonic()
                    if delay > 0:
                        if target >= stop_at:
                            return
                        await asyncio.sleep(delay)
                        woke = time.monotonic()
                        rec.add("timer", target, woke - target)
                url = resolve(media_url, uri)
                began = time.monotonic()
                try:
                    body = await fetch(session, url, rec)
                except Exception as error:  # noqa: BLE001
                    rec.error("segment", f"{type(error).__name__}: {error}")
                    break
                arrived = time.monotonic()
                took = arrived - began
                rec.add("segment", began, took)
                rec.count("segments", began)
                rec.count("bytes", began, len(body))
                if number == 1:
                    playback_start = arrived
                elif playback_start is not None and arrived > playback_start + before:
                    rec.stall(began, miss_s=arrived - (playback_start + before), fetch_s=took,
                              issue_late_s=max(0.0, began - target) if target is not None else 0.0)
                before += duration
                # Adapt the way an ABR player does.
                new_level = level
                if took > duration * 0.5 and level > 0:
                    new_level = level - 1
                elif took < duration * 0.1 and level < len(variants) - 1:
                    new_level = level + 1
                if new_level != level:
                    level = new_level
                    rec.count("switches", arrived)
                    media_url = resolve(master_url, variants[level][1])
                    try:
                        init, _ = parse_media((await fetch(session, media_url, rec)).decode())
                        await fetch(session, resolve(media_url, init), rec)
                    except Exception as error:  # noqa: BLE001
                        rec.error("switch", f"{type(error).__name__}: {error}")
                        break


async def lag_probe(rec, interval, stop_at):
    """How late this worker's loop fires a timer: sleeps `interval` again and again."""
    while True:
        target = time.monotonic() + interval
        if target >= stop_at:
            return
        await asyncio.sleep(interval)
        rec.add("lag", target, time.monotonic() - target)


async def worker_async(conn, worker, cfg, accounts, listeners):
    rec = Recorder(worker)
    loop = asyncio.get_running_loop()
    # 1. Sign in this worker's accounts, a few at a time, over one short-lived session.
    began = time.monotonic()
    tokens = {}
    gate = asyncio.Semaphore(8)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async def one(index):
            async with gate:
                try:
                    tokens[index] = await sign_in(session, cfg["base"], index)
                except Exception as error:  # noqa: BLE001
                    rec.error("login", f"account {index}: {type(error).__name__}: {error}", t=-math.inf)
        await asyncio.gather(*(one(index) for index in accounts))
    conn.send(("ready", {"accounts": len(tokens), "setup_s": time.monotonic() - began}))
    # 2. Wait for the parent's common timeline.
    message = await loop.run_in_executor(None, conn.recv)
    if message[0] != "go":
        return
    _, t0, ws, we, stop_at = message
    rec.ws, rec.we = ws, we
    n, ramp, account_count = cfg["listeners"], cfg["ramp"], cfg["accounts"]
    # Python's cyclic GC walks every live object in a full collection: with thousands of listeners that is
    # a pause of hundreds of ms, which would show up as client lag. Collect rarely, and time each one.
    gc_pauses = array("d")
    gc_began = [0.0]

    def gc_timer(phase, info):
        if phase == "start":
            gc_began[0] = time.perf_counter()
        elif info.get("generation") == 2:
            gc_pauses.append(time.perf_counter() - gc_began[0])
    gc.callbacks.append(gc_timer)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    tasks = [asyncio.create_task(lag_probe(rec, cfg["lag_interval"], stop_at))]
    for index in listeners:
        token = tokens.get(index % account_count)
        if token is None:
            rec.error("login", f"listener {index}: its account did not sign in", t=t0)
            continue
        tasks.append(asyncio.create_task(listener(index, t0 + ramp * index / max(n, 1), token, cfg, rec, stop_at)))
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, stop_at - time.monotonic()) + 40)
    for task in pending:
        task.cancel()
        rec.error("overrun", "a listener still busy 40 s after the end was cancelled")
    for task in done:
        if task.exception() is not None:
            rec.error("crash", "".join(traceback.format_exception_only(task.exception())).strip())
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    finished = time.monotonic()
    conn.send(("done", {
        "worker": worker, "pid": os.getpid(), "finished": finished, "series": rec.series,
        "counts": rec.counts, "errors": rec.errors, "error_samples": rec.error_samples,
        "stall_samples": rec.stall_samples, "cache_statuses": rec.cache_statuses,
        "edge_auth_statuses": rec.edge_auth_statuses, "origin_media": rec.origin_media,
        "origin_auth": rec.origin_auth, "gc_full_pauses": list(gc_pauses),
    }))


def event_loop_kind(wanted):
    """The event loop to run: uvloop when asked for (auto: when it is installed), else asyncio's own."""
    if wanted in ("auto", "uvloop"):
        try:
            import uvloop  # noqa: F401
            return "uvloop"
        except ImportError:
            if wanted == "uvloop":
                sys.exit("--loop uvloop: uvloop is not installed (pip install uvloop)")
    return "asyncio"


def worker_main(conn, worker, cfg, accounts, listeners):
    try:
        if cfg["loop"] == "uvloop":
            import uvloop
            uvloop.run(worker_async(conn, worker, cfg, accounts, listeners))
        else:
            asyncio.run(worker_async(conn, worker, cfg, accounts, listeners))
    except BaseException as error:  # noqa: BLE001 - tell the parent, whatever it was
        try:
            conn.send(("failed", f"worker {worker}: {''.join(traceback.format_exception(error))[-2000:]}"))
        except Exception:  # noqa: BLE001
            pass
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- parent


def proc_stat(pid):
    """(user+sys CPU seconds, RSS MB, threads) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK, int(fields[21]) * PAGE / 2**20, int(fields[17])


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def fd_limit(pid):
    try:
        with open(f"/proc/{pid}/limits") as f:
            for line in f:
                if line.startswith("Max open files"):
                    soft, hard = line.split()[3:5]
                    return {"soft": soft, "hard": hard}
    except OSError:
        pass
    return None


def machine_cpu():
    """(busy, irq + softirq) CPU seconds of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK, (irq + softirq) / CLK_TCK


def take_sample(server_pid, worker_pids, tag=None):
    now = time.monotonic()
    sample = {"t": now, "tag": tag}
    sample["machine_cpu"], sample["irq_cpu"] = machine_cpu()
    if server_pid:
        stat = proc_stat(server_pid)
        if stat:
            sample.update(server_cpu=stat[0], server_rss=stat[1], server_threads=stat[2], server_fds=open_fds(server_pid))
    cpu = rss = 0.0
    for pid in worker_pids:
        stat = proc_stat(pid)
        if stat:
            cpu, rss = cpu + stat[0], rss + stat[1]
    own = os.times()
    sample.update(client_cpu=cpu + own.user + own.system, client_rss=rss)
    return sample


def slope_per_min(points):
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return None if var == 0 else sum((t - mean_t) * (v - mean_v) for t, v in points) / var * 60


def cores(a, b, key):
    if not a or not b or key not in a or key not in b or b["t"] <= a["t"]:
        return None
    return (b[key] - a[key]) / (b["t"] - a["t"])


def latency_summary(values, points=(0.5, 0.95, 0.99)):
    ordered = sorted(values)
    out = {"n": len(ordered)}
    for p in points:
        out[f"p{p * 100:g}_ms".replace(".", "_")] = ms(percentile(ordered, p))
    out["max_ms"] = ms(ordered[-1]) if ordered else None
    return out


def main():
    parser = argparse.ArgumentParser(description="HLS listener simulator (see the module docstring)")
    parser.add_argument("base")
    parser.add_argument("tracks")
    parser.add_argument("--listeners", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30, help="listeners stop this long after the first starts")
    parser.add_argument("--steady", type=float, help="a steady window this long after ramp + settle (overrides --seconds)")
    parser.add_argument("--ramp", type=float, default=20, help="seconds over which the listeners start")
    parser.add_argument("--settle", type=float, default=0, help="seconds between the ramp's end and the steady window")
    parser.add_argument("--accounts", type=int, default=200, help="accounts the listeners share")
    parser.add_argument("--processes", type=int, default=0, help="worker processes (0: one per 3,500 listeners)")
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--media-base", help="fetch media from this scheme://host:port instead of the hls URL's")
    parser.add_argument("--sample-every", type=float, default=2, help="seconds between /proc samples")
    parser.add_argument("--lag-interval", type=float, default=0.1, help="the lag probe's sleep, seconds")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="asyncio",
                        help="the workers' event loop (auto: uvloop when installed)")
    args = parser.parse_args()
    tracks = [line.strip() for line in open(args.tracks) if line.strip()]
    if not tracks or args.listeners < 1:
        sys.exit("need at least one track and one listener")
    accounts = max(1, min(args.accounts, args.listeners))
    processes = args.processes or max(1, min((os.cpu_count() or 1) + 1, math.ceil(args.listeners / 3500)))
    processes = max(1, min(processes, accounts))
    cfg = {"base": args.base, "media_base": args.media_base, "tracks": tracks, "weights": zipf_weights(len(tracks)),
           "listeners": args.listeners, "ramp": args.ramp, "accounts": accounts, "lag_interval": args.lag_interval,
           "loop": event_loop_kind(args.loop)}
    # Account a belongs to worker a mod P, and so do its listeners (listener i uses account i mod A).
    shares = [([a for a in range(accounts) if a % processes == w],
               [i for i in range(args.listeners) if (i % accounts) % processes == w]) for w in range(processes)]

    context = multiprocessing.get_context("fork")
    workers, conns = [], []
    for w, (mine, theirs) in enumerate(shares):
        parent_end, child_end = context.Pipe()
        process = context.Process(target=worker_main, args=(child_end, w, cfg, mine, theirs), daemon=True)
        process.start()
        child_end.close()
        workers.append(process)
        conns.append(parent_end)
    worker_pids = [p.pid for p in workers]
    failures = []

    def receive(conn, timeout):
        if not conn.poll(timeout):
            raise TimeoutError("a worker did not answer in time")
        try:
            return conn.recv()
        except EOFError:
            return ("failed", "a worker exited without a word")

    # Setup: every worker signs its accounts in; then one timeline for all.
    setup_began = time.monotonic()
    ready = []
    for conn in conns:
        message = receive(conn, 600)
        if message[0] != "ready":
            failures.append(message[1])
        else:
            ready.append(message[1])
    setup_s = time.monotonic() - setup_began
    signed_in = sum(r["accounts"] for r in ready)
    before = take_sample(args.server_pid, worker_pids, "before")
    t0 = time.monotonic() + 0.5
    if args.steady is not None:
        ws = t0 + args.ramp + args.settle
        we = stop_at = ws + args.steady
    else:
        stop_at = t0 + args.seconds
        ws, we = min(t0 + args.ramp + args.settle, stop_at), stop_at
    for conn in conns:
        try:
            conn.send(("go", t0, ws, we, stop_at))
        except (BrokenPipeError, OSError):
            pass

    # Run: sample /proc on a fixed grid plus the window's edges, until every worker has reported.
    samples = []
    grid = [t0 + k * args.sample_every for k in range(1, int((stop_at - t0) / args.sample_every) + 1)]
    marks = sorted([(t, "") for t in grid if abs(t - ws) > 0.2 and abs(t - we) > 0.2]
                   + [(t0, "t0"), (ws, "window_start"), (we, "window_end")])
    results, waiting = [], dict(zip(conns, range(processes)))
    deadline = stop_at + 90
    server_limits = fd_limit(args.server_pid) if args.server_pid else None
    while (waiting or (marks and marks[0][1])) and time.monotonic() < deadline:
        next_mark = marks[0][0] if marks else time.monotonic() + args.sample_every
        timeout = max(0.0, next_mark - time.monotonic())
        if not waiting:
            time.sleep(timeout)
        for conn in multiprocessing.connection.wait(list(waiting), timeout=timeout) if waiting else ():
            try:
                message = conn.recv()
            except EOFError:
                message = ("failed", f"worker {waiting[conn]} exited without a word")
            if message[0] == "done":
                results.append(message[1])
            else:
                failures.append(message[1])
            del waiting[conn]
        now = time.monotonic()
        while marks and marks[0][0] <= now:
            samples.append(take_sample(args.server_pid, worker_pids, marks.pop(0)[1] or None))
        if not marks:
            marks = [(time.monotonic() + args.sample_every, "")]
    end_sample = take_sample(args.server_pid, worker_pids, "end")
    for conn in waiting:
        failures.append(f"worker {waiting[conn]} did not report within 90 s of the end")
    for process in workers:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)

    # ------------------------------------------------------------------ merge
    series = {}
    for result in results:
        for name, (times, values) in result["series"].items():
            t_all, v_all = series.setdefault(name, (array("d"), array("d")))
            t_all.extend(times)
            v_all.extend(values)

    def values(name, phase=None):
        times, vals = series.get(name, ((), ()))
        if phase is None:
            return list(vals)
        lo, hi = {RAMP: (-math.inf, ws), STEADY: (ws, we), AFTER: (we, math.inf)}[phase]
        return [v for t, v in zip(times, vals) if lo <= t < hi]

    counts = [Counter() for _ in PHASES]
    errors = [Counter() for _ in PHASES]
    cache_statuses, edge_auth_statuses = Counter(), Counter()
    error_samples, stall_samples = [], []
    origin_media = origin_auth = 0
    for result in results:
        for phase in range(len(PHASES)):
            counts[phase].update(result["counts"][phase])
            errors[phase].update(result["errors"][phase])
        cache_statuses.update(result["cache_statuses"])
        edge_auth_statuses.update(result["edge_auth_statuses"])
        error_samples += result["error_samples"]
        stall_samples += result["stall_samples"]
        origin_media += result["origin_media"]
        origin_auth += result["origin_auth"]
    total = sum(counts, Counter())
    for sample in error_samples + stall_samples:
        sample["t"] = None if not math.isfinite(sample["t"]) else round(sample["t"] - t0, 2)
    error_samples = sorted(error_samples, key=lambda s: (s["t"] is not None, s["t"] or 0))[:20]
    stall_samples = sorted(stall_samples, key=lambda s: s["t"])[:20]
    error_count = sum(sum(e.values()) for e in errors) + len(failures)
    finished = max((r["finished"] for r in results), default=time.monotonic())
    elapsed = finished - t0
    media = sum(cache_statuses.values())
    hits = cache_statuses["HIT"]
    origin = origin_media + origin_auth

    def phase_report(phase, start, end):
        c = counts[phase]
        wall = max(end - start, 1e-9)
        starts = latency_summary(values("start", phase))
        segments = latency_summary(values("segment", phase), (0.5, 0.99))
        return {
            "from_s": round(start - t0, 2), "to_s": round(end - t0, 2),
            "plays": c["plays"], "segments": c["segments"], "switches": c["switches"],
            "errors": sum(errors[phase].values()), "errors_by_kind": dict(errors[phase]),
            "stalls": c["stalls"], "stalls_client": c["stalls_client"], "stalls_server": c["stalls_server"],
            "connections_opened": c["connections"], "segment_mbit_s": round(c["bytes"] * 8 / wall / 1e6, 1),
            "start_p50_ms": starts["p50_ms"], "start_p95_ms": starts["p95_ms"], "start_p99_ms": starts["p99_ms"],
            "start_max_ms": starts["max_ms"],
            "stream_api": latency_summary(values("api", phase)), "segment": segments,
            "segment_p50_ms": segments["p50_ms"], "segment_p99_ms": segments["p99_ms"],
            "client_lag": latency_summary(values("lag", phase), (0.5, 0.99, 0.999)),
            "client_timer_late": latency_summary(values("timer", phase), (0.5, 0.99, 0.999)),
        }

    steady = phase_report(STEADY, ws, we) if we > ws else None
    ramp_phase = phase_report(RAMP, t0, ws)

    # Server and client resources.
    by_tag = {s["tag"]: s for s in samples if s["tag"]}
    window = [s for s in samples if ws - 0.01 <= s["t"] <= we + 0.01 and "server_rss" in s]
    server, client = {"fd_limit": server_limits}, {}
    run_end = next((s for s in reversed(samples) if s["t"] <= finished + 0.01), end_sample)
    if args.server_pid:
        rss_all = [s["server_rss"] for s in samples if "server_rss" in s]
        fds_all = [s["server_fds"] for s in samples if s.get("server_fds") is not None]
        server.update({
            "cpu_cores_run": round(cores(by_tag.get("t0"), end_sample, "server_cpu") or 0, 3),
            "rss_before_mb": round(before.get("server_rss", 0), 1),
            "rss_min_mb": round(min(rss_all), 1) if rss_all else None,
            "rss_max_mb": round(max(rss_all), 1) if rss_all else None,
            "fds_max": max(fds_all) if fds_all else None, "threads_max": max((s.get("server_threads", 0) for s in samples), default=None),
        })
        if window:
            w_rss = [s["server_rss"] for s in window]
            slope = slope_per_min([(s["t"], s["server_rss"]) for s in window])
            server.update({
                "cpu_cores_steady": None if cores(by_tag.get("window_start"), by_tag.get("window_end"), "server_cpu") is None
                else round(cores(by_tag["window_start"], by_tag["window_end"], "server_cpu"), 3),
                "rss_steady_start_mb": round(window[0]["server_rss"], 1), "rss_steady_end_mb": round(window[-1]["server_rss"], 1),
                "rss_steady_min_mb": round(min(w_rss), 1), "rss_steady_max_mb": round(max(w_rss), 1),
                "rss_steady_range_mb": round(max(w_rss) - min(w_rss), 1),
                "rss_steady_slope_mb_per_min": None if slope is None else round(slope, 2),
                "rss_steady_samples": len(window),
                "fds_steady_max": max((s.get("server_fds") or 0) for s in window),
            })
    ws_s, we_s = by_tag.get("window_start"), by_tag.get("window_end")
    machine = {}
    for name, (a, b) in {"steady": (ws_s, we_s), "run": (by_tag.get("t0"), end_sample)}.items():
        busy, irq = cores(a, b, "machine_cpu"), cores(a, b, "irq_cpu")
        if busy is None:
            continue
        mine = (cores(a, b, "server_cpu") or 0) + (cores(a, b, "client_cpu") or 0)
        machine[f"busy_cores_{name}"] = round(busy, 3)
        machine[f"irq_cores_{name}"] = round(irq, 3)
        # Whatever else ran meanwhile (another build, say): busy less the server, the client and interrupts.
        machine[f"other_cores_{name}"] = round(max(0.0, busy - mine - irq), 3)
    client.update({
        "processes": processes, "pids": worker_pids,
        "cpu_cores_run": round(cores(by_tag.get("t0"), end_sample, "client_cpu") or 0, 3),
        "cpu_cores_steady": None if cores(by_tag.get("window_start"), by_tag.get("window_end"), "client_cpu") is None
        else round(cores(by_tag["window_start"], by_tag["window_end"], "client_cpu"), 3),
        "rss_max_mb": round(max(s["client_rss"] for s in samples), 1),
        "lag": latency_summary(values("lag"), (0.5, 0.99, 0.999)),
        "timer_late": latency_summary(values("timer"), (0.5, 0.99, 0.999)),
        "join_late": latency_summary(values("join"), (0.5, 0.99)),
        "gc_full_collections": sum(len(r.get("gc_full_pauses", ())) for r in results),
        "gc_full_pause_max_ms": ms(max((p for r in results for p in r.get("gc_full_pauses", ())), default=None)),
    })
    timeline = [{"t": round(s["t"] - t0, 1), **({"tag": s["tag"]} if s["tag"] else {}),
                 **({"rss_mb": round(s["server_rss"], 1), "fds": s.get("server_fds")} if "server_rss" in s else {}),
                 "server_cpu_s": round(s.get("server_cpu", 0), 2), "client_cpu_s": round(s["client_cpu"], 2),
                 "machine_cpu_s": round(s["machine_cpu"], 2)}
                for s in samples + [end_sample]]

    starts_all = latency_summary(values("start"))
    segments_all = sorted(values("segment"))
    server_cpu = cores(by_tag.get("t0"), end_sample, "server_cpu")
    print(json.dumps({
        # The whole run (the fields bench/edge.sh reads).
        "listeners": args.listeners, "seconds": round(stop_at - t0, 2), "plays": total["plays"], "segments": total["segments"],
        "start_p50_ms": starts_all["p50_ms"], "start_p95_ms": starts_all["p95_ms"], "start_p99_ms": starts_all["p99_ms"],
        "segment_p50_ms": ms(percentile(segments_all, 0.5)), "segment_p99_ms": ms(percentile(segments_all, 0.99)),
        "stalls": total["stalls"], "stalls_client": total["stalls_client"], "stalls_server": total["stalls_server"],
        "errors": error_count, "switches": total["switches"],
        "errors_by_kind": dict(sum(errors, Counter())), "error_samples": error_samples, "stall_samples": stall_samples,
        "worker_failures": failures,
        "server_cpu_avg_pct": None if server_cpu is None else round(server_cpu * 100, 1),
        "server_rss_max_mb": server.get("rss_max_mb"),
        "elapsed_s": round(elapsed, 2), "media_requests": media, "edge_hits": hits,
        "edge_hit_ratio": round(hits / media, 4) if media else None,
        "origin_media_requests": origin_media, "origin_auth_checks": origin_auth,
        "origin_requests": origin, "origin_requests_per_s": round(origin / elapsed, 2) if elapsed > 0 else None,
        "cache_statuses": dict(cache_statuses), "edge_auth_statuses": dict(edge_auth_statuses),
        "connections_opened": total["connections"],
        # How the run was set up.
        "settings": {"processes": processes, "loop": cfg["loop"], "accounts": accounts, "accounts_signed_in": signed_in, "setup_s": round(setup_s, 2),
                     "ramp_s": args.ramp, "settle_s": args.settle, "steady_s": round(we - ws, 2),
                     "starts_per_s": round(args.listeners / args.ramp, 1) if args.ramp > 0 else None,
                     "sample_every_s": args.sample_every, "lag_interval_s": args.lag_interval},
        # Per phase, by when each event began, and the resources.
        "steady": steady, "ramp": ramp_phase, "server": server, "client": client, "machine": machine,
        "timeline": timeline,
    }))


if __name__ == "__main__":
    main()

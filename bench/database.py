#!/usr/bin/env python3
"""The measuring half of bench/database.sh: the same catalog on SQLite and on PostgreSQL, and reads through
HAProxy with one and two API instances.

Subcommands (each prints JSON lines or writes the files it is given; stdlib only):

  queries CATALOG OUT [--count N] [--seed S]
        a search mix drawn from the catalog (a quarter each: exact names, prefixes as typed, one typo,
        title + artist in either order), one `/api/v1/search?q=…` path per line, form-encoded with `+`
        for spaces as clients send it (bench/make_catalog.py's typo rule)
  pick (--sqlite FILE | --postgres URL) --kind track|album --count N --out FILE
        N ids spread evenly over the catalog in its natural order (artist name, album title, track
        number), so both databases yield the same tracks and albums; FILE.keys holds those natural keys
        (bench/database.sh compares them across the two databases)
  import --label L --round R [--group NAME=PID,...] -- COMMAND...
        waits for a quiet machine, runs an `encore catalog import`, prints its wall time, its own line's
        tracks/s, the importer's CPU (getrusage) and each group's CPU over it
  measure URL_BASE PATHS --target T --measure M --round R --group NAME=PID,... [-H HEADER] [wrk options]
        one wrk window rotating over the PATHS file (a Lua script, so the server sees different ids and
        queries, not one cached answer), with bench/cpu_per_request.py's quiet-machine wait and retries;
        prints one JSON line: wrk's figures, each group's CPU (utime + stime of the processes and of every
        descendant, alive or reaped: /proc/PID/stat fields 14-17, so PostgreSQL backends that a
        connection opened or closed during the window count too), wrk's own CPU, and the whole machine's
        busy share from /proc/stat
  fetch-search URL_BASE PATHS OUT -H HEADER     each search answer reduced to its ranked names
  compare-search A B                            how many queries answered the same names on both
  pg-statements LOG --from OFFSET [--to OFFSET] statements logged by log_min_duration_statement = 0
        between two offsets of the server's log, grouped by text: count, total and mean ms
  report RUNS --meta META --json OUT            the Markdown tables and the results JSON
"""
import argparse
import json
import os
import random
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpu_per_request as cpr  # noqa: E402  (parse_wrk, system_ticks, wait_for_quiet)
import make_catalog  # noqa: E402  (typo)

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- process CPU ----

def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()


def all_parents():
    """{pid: ppid} of every process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(proc_stat(int(entry))[1])
            except (OSError, IndexError, ValueError):
                pass
    return parents


def tree_ticks(roots):
    """{root: ticks}: utime + stime + cutime + cstime of the root and of each live descendant. A process
    that exits is reaped by its parent (the postmaster reaps its backends at once), whose cutime/cstime then
    hold its whole CPU: summed this way, the delta between two readings is the CPU the tree spent in
    between, whichever processes came and went."""
    parents = all_parents()
    kids = {}
    for pid, ppid in parents.items():
        kids.setdefault(ppid, []).append(pid)
    out = {}
    for root in roots:
        total, stack, seen = 0, [root], set()
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                fields = proc_stat(pid)
                total += sum(int(fields[i]) for i in (11, 12, 13, 14))
            except (OSError, IndexError, ValueError):
                if pid == root:
                    raise SystemExit(f"process {root} is gone")
                continue
            stack.extend(kids.get(pid, []))
        out[root] = total
    return out


def machine_ticks():
    """(busy = user + nice + system, irq + softirq, all ticks) from /proc/stat's cpu line."""
    with open("/proc/stat") as f:
        values = [int(n) for n in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq = values[:7]
    steal = values[7] if len(values) > 7 else 0
    return user + nice + system, irq + softirq, user + nice + system + idle + iowait + irq + softirq + steal


def context_switches():
    """The machine's context switches since boot (/proc/stat's ctxt line)."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("ctxt "):
                return int(line.split()[1])
    return 0


def parse_groups(specs):
    groups = {}
    for spec in specs or []:
        name, _, pids = spec.partition("=")
        groups[name] = [int(p) for p in pids.split(",") if p]
    return groups


def group_readings(groups):
    return {name: tree_ticks(pids) for name, pids in groups.items()}


def group_figures(before, after, requests, wall):
    figures = {}
    for name in before:
        per_pid = {str(pid): (after[name][pid] - before[name][pid]) / CLK_TCK for pid in before[name]}
        seconds = sum(per_pid.values())
        figures[name] = {
            "cpu_s": round(seconds, 3),
            "per_pid_cpu_s": {pid: round(s, 3) for pid, s in per_pid.items()},
            "cores_busy": round(seconds / wall, 3),
        }
        if requests:
            figures[name]["cpu_us_per_request"] = round(seconds * 1e6 / requests, 2)
    return figures


# ---- queries and ids ----

def queries(args):
    rng = random.Random(args.seed)
    with open(args.catalog, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    out, seen = [], set()
    attempts = 0
    while len(out) < args.count and attempts < args.count * 20:
        attempts += 1
        record = rng.choice(records)
        kind = len(out) % 4
        if kind == 0:
            text = rng.choice([record["artist"], record["title"], record["album"]])
        elif kind == 1:
            name = rng.choice([record["artist"], record["title"]])
            text = name[: max(2, len(name) * 2 // 3)]
        elif kind == 2:
            text = make_catalog.typo(rng, record["title"]) or make_catalog.typo(rng, record["artist"])
        else:
            pair = [record["title"], record["artist"]]
            rng.shuffle(pair)
            text = " ".join(pair)
        if not text or not text.strip() or len(text) > 200 or text in seen:
            continue
        seen.add(text)
        out.append(text)
    with open(args.out, "w", encoding="utf-8") as f:
        for text in out:
            f.write("/api/v1/search?q=" + urllib.parse.quote_plus(text) + "\n")
    print(len(out))


SQL = {
    ("sqlite", "track"): 'SELECT t.id, ar.name, al.title, t.trackNumber FROM track t JOIN album al ON al.id = t.albumId '
                         'JOIN artist ar ON ar.id = al.artistId ORDER BY ar.name, al.title, t.trackNumber',
    ("sqlite", "album"): 'SELECT al.id, ar.name, al.title, 0 FROM album al JOIN artist ar ON ar.id = al.artistId ORDER BY ar.name, al.title',
    ("postgres", "track"): 'SELECT t.id, ar.name, al.title, t.track_number FROM track t JOIN album al ON al.id = t.album_id '
                           'JOIN artist ar ON ar.id = al.artist_id ORDER BY ar.name COLLATE "C", al.title COLLATE "C", t.track_number',
    ("postgres", "album"): 'SELECT al.id, ar.name, al.title, 0 FROM album al JOIN artist ar ON ar.id = al.artist_id '
                           'ORDER BY ar.name COLLATE "C", al.title COLLATE "C"',
}


def pick(args):
    if args.sqlite:
        db = sqlite3.connect(f"file:{args.sqlite}?mode=ro", uri=True)
        rows = [(str(uuid.UUID(bytes=bytes(r[0]))), r[1], r[2], r[3]) for r in db.execute(SQL[("sqlite", args.kind)])]
        db.close()
    else:
        result = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", args.postgres, "-c", SQL[("postgres", args.kind)]],
                                capture_output=True, text=True, check=True)
        rows = [tuple(line.split("\t")) for line in result.stdout.splitlines() if line]
    # SQLite orders text by bytes; "C" is PostgreSQL's byte order too. Python re-sorts by code point
    # (the same order for UTF-8) so that both lists agree whatever either engine did with ties.
    rows = sorted(rows, key=lambda r: (r[1], r[2], int(r[3])))
    count = min(args.count, len(rows))
    step = len(rows) / count
    chosen = [rows[int(i * step)] for i in range(count)]
    with open(args.out, "w") as f:
        f.write("".join(r[0] + "\n" for r in chosen))
    with open(args.out + ".keys", "w", encoding="utf-8") as f:
        f.write("".join(f"{r[1]}\t{r[2]}\t{r[3]}\n" for r in chosen))
    print(count)


# ---- import ----

def run_import(args):
    quiet = cpr.wait_for_quiet(args)
    groups = parse_groups(args.group)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, machine_before = group_readings(groups), machine_ticks()
    started = time.monotonic()
    finished = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - started
    after, machine_after = group_readings(groups), machine_ticks()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode != 0:
        sys.exit(f"import failed ({finished.returncode}):\n{finished.stdout[-2000:]}{finished.stderr[-2000:]}")
    line = next((l for l in reversed(finished.stdout.splitlines()) if l.startswith("imported ")), "")
    match = re.search(r"imported (\d+) tracks from (\d+) lines in ([\d.]+) s \((\d+) tracks/s\), skipped (\d+)", line)
    if not match:
        sys.exit(f"no `imported …` line in the import's output:\n{finished.stdout[-2000:]}")
    importer = (children_after.ru_utime - children_before.ru_utime) + (children_after.ru_stime - children_before.ru_stime)
    run = {
        "kind": "import", "target": args.label, "round": args.round, "line": line,
        "tracks": int(match.group(1)), "import_seconds": float(match.group(3)), "tracks_per_s": int(match.group(4)),
        "skipped": int(match.group(5)), "wall_s": round(wall, 3), "importer_cpu_s": round(importer, 3),
        "groups": group_figures(before, after, 0, wall),
        "machine_busy_before": round(quiet, 3),
        "machine_cores_busy": round((machine_after[0] - machine_before[0] + machine_after[1] - machine_before[1]) / CLK_TCK / wall, 3),
    }
    if int(match.group(5)):
        sys.exit(f"the import skipped lines: {line}")
    print(json.dumps(run))


# ---- wrk windows ----

LUA = """-- Written by bench/database.py: every request takes the next path of %(file)s (bearer header from -H).
local paths = {}
for line in io.lines(%(file)s) do
    if #line > 0 then paths[#paths + 1] = line end
end
local n = 0
local threads = 0
function setup(thread)
    thread:set("start", threads * 7919)
    threads = threads + 1
end
function request()
    if n == 0 then n = (start or 0) %% #paths end
    n = n %% #paths + 1
    return wrk.format("GET", paths[n])
end
"""


def wrk_command(args, duration, script):
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}", "--latency", "-s", script]
    for header in args.header or []:
        command += ["-H", header]
    return command + [args.url]


def window(args, script):
    groups = parse_groups(args.group)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_before, ctxt_before = machine_ticks(), context_switches()
    before = group_readings(groups)
    started = time.monotonic()
    finished = subprocess.run(wrk_command(args, args.duration, script), capture_output=True, text=True)
    wall = time.monotonic() - started
    after = group_readings(groups)
    machine_after, ctxt_after = machine_ticks(), context_switches()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = finished.stdout + finished.stderr
    try:
        run = cpr.parse_wrk(output)
    except (ValueError, AttributeError) as error:
        sys.exit(f"{args.target} {args.measure}: {error}:\n{output}")
    if finished.returncode != 0 or run["socket_errors"] or run["non_2xx"] or run["requests"] == 0:
        sys.exit(f"wrk saw errors for {args.target} {args.measure} (round {args.round}):\n{output}")
    figures = group_figures(before, after, run["requests"], wall)
    servers = sum(g["cpu_s"] for g in figures.values())
    wrk_seconds = (children_after.ru_utime - children_before.ru_utime) + (children_after.ru_stime - children_before.ru_stime)
    busy = (machine_after[0] - machine_before[0]) / CLK_TCK
    irq = (machine_after[1] - machine_before[1]) / CLK_TCK
    total = (machine_after[2] - machine_before[2]) / CLK_TCK
    run.update(
        kind="wrk", target=args.target, measure=args.measure, round=args.round, paths=args.paths_count,
        window_s=round(wall, 3), groups=figures,
        server_cpu_us_per_request=round(servers * 1e6 / run["requests"], 2),
        wrk_cpu_s=round(wrk_seconds, 3), wrk_cores_busy=round(wrk_seconds / wall, 3),
        wrk_cpu_us_per_request=round(wrk_seconds * 1e6 / run["requests"], 2),
        other_cores_busy=round(max(0.0, busy - servers - wrk_seconds) / wall, 3),
        irq_cores_busy=round(irq / wall, 3),
        machine_busy_pct=round(100 * (busy + irq) / total, 1) if total else None,
        context_switches_per_request=round((ctxt_after - ctxt_before) / run["requests"], 2),
    )
    return run


def measure(args):
    with open(args.paths, encoding="utf-8") as f:
        args.paths_count = sum(1 for line in f if line.strip())
    script = os.path.abspath(f"{args.paths}.lua")
    with open(script, "w") as f:
        f.write(LUA % {"file": json.dumps(os.path.abspath(args.paths))})
    for attempt in range(1, args.retries + 2):
        quiet = cpr.wait_for_quiet(args)
        if args.warmup not in ("", "0", "0s"):
            subprocess.run(wrk_command(args, args.warmup, script), capture_output=True)
        run = window(args, script)
        run.update(attempt=attempt, machine_busy_before=round(quiet, 3), disturbed=run["other_cores_busy"] > args.max_other)
        if not run["disturbed"]:
            break
        print(f"  {args.target} {args.measure}: other processes kept {run['other_cores_busy']} cores busy; measuring again", file=sys.stderr)
    print(json.dumps(run))


# ---- search answers on both engines ----

def fetch_search(args):
    headers = dict(h.split(": ", 1) for h in args.header or [])
    answers = []
    with open(args.paths, encoding="utf-8") as f:
        paths = [line.strip() for line in f if line.strip()]
    for path in paths[: args.limit or None]:
        request = urllib.request.Request(args.url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        answers.append({
            "path": path,
            "tracks": [[t.get("title"), t.get("artistName"), t.get("albumTitle")] for t in body.get("tracks", [])],
            "albums": [a.get("title") for a in body.get("albums", [])],
            "artists": [a.get("name") for a in body.get("artists", [])],
            "scores": {kind: [x.get("score") for x in body.get(kind, [])] for kind in ("tracks", "albums", "artists")},
            "top": (body.get("top") or {}).get("type"),
        })
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(answers, f, ensure_ascii=False)


def only_ties(x, y):
    """Whether every position where the two answers name different results holds equal scores on both
    sides: results tied on score, which each engine may order differently (their ids differ). Scores
    drift by far less than 1e-5 between the two (popularity decays with the time since the import)."""
    for kind in ("tracks", "albums", "artists"):
        if len(x[kind]) != len(y[kind]):
            return False
        for i, (a, b) in enumerate(zip(x[kind], y[kind])):
            if a != b:
                sa, sb = x["scores"][kind][i], y["scores"][kind][i]
                if sa is None or sb is None or abs(sa - sb) > 1e-5:
                    return False
    return x["top"] == y["top"]


def compare_search(args):
    a, b = json.load(open(args.a, encoding="utf-8")), json.load(open(args.b, encoding="utf-8"))
    same = same_sets = ties = 0
    differing = []
    for x, y in zip(a, b):
        keys = ("tracks", "albums", "artists", "top")
        if all(x[k] == y[k] for k in keys):
            same += 1
            continue
        if all(sorted(map(str, x[k])) == sorted(map(str, y[k])) for k in ("tracks", "albums", "artists")):
            same_sets += 1
        tie = only_ties(x, y)
        ties += tie
        if len(differing) < 10:
            diff = {}
            for kind in ("tracks", "albums", "artists"):
                rows = [(i, p, q) for i, (p, q) in enumerate(zip(x[kind], y[kind])) if p != q]
                if rows or len(x[kind]) != len(y[kind]):
                    diff[kind] = {"lengths": [len(x[kind]), len(y[kind])],
                                  "positions": [{"rank": i + 1, "sqlite": p, "postgres": q, "scores": [x["scores"][kind][i], y["scores"][kind][i]]} for i, p, q in rows[:3]]}
            differing.append({"path": x["path"], "only_ties": tie, "top": [x["top"], y["top"]], "differences": diff})
    print(json.dumps({"queries": len(a), "same_ranked_answers": same, "same_result_sets": same + same_sets,
                      "differing_only_among_tied_scores": ties, "differing_examples": differing}, ensure_ascii=False))


# ---- PostgreSQL's statement log ----

RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
DURATION = re.compile(r"duration: ([\d.]+) ms\s+(statement|execute|parse|bind) ?([^:]*): (.*)", re.S)


def pg_statements(args):
    with open(args.log, "rb") as f:
        f.seek(args.start)
        data = f.read((args.end - args.start) if args.end else -1).decode("utf-8", "replace")
    records, current = [], None
    for line in data.splitlines():
        if RECORD.match(line):
            if current is not None:
                records.append(current)
            current = line
        elif current is not None:
            current += "\n" + line
    if current is not None:
        records.append(current)
    stats, slowest, last = {}, [], None
    for record in records:
        if last is not None and "DETAIL:  parameters:" in record:
            last["parameters"] = " ".join(record.split("DETAIL:  parameters:", 1)[1].split())[:400]
            last = None
            continue
        last = None
        match = DURATION.search(record)
        if not match:
            continue
        ms, phase, text = float(match.group(1)), match.group(2), " ".join(match.group(4).split())
        entry = stats.setdefault(text, {"statement": text, "execute_count": 0, "execute_ms": 0.0, "parse_ms": 0.0, "bind_ms": 0.0, "parse_bind_ms": 0.0})
        if phase in ("execute", "statement"):
            entry["execute_count"] += 1
            entry["execute_ms"] += ms
            entry["max_ms"] = max(entry.get("max_ms", 0.0), ms)
            last = {"ms": ms, "statement": text}
            slowest.append(last)
        else:
            # An unnamed statement is planned at bind: that is where planning time shows.
            entry[f"{phase}_ms"] += ms
            entry["parse_bind_ms"] += ms
    out = sorted(stats.values(), key=lambda e: -(e["execute_ms"] + e["parse_bind_ms"]))
    for entry in out:
        entry["execute_ms"] = round(entry["execute_ms"], 3)
        for key in ("parse_ms", "bind_ms", "parse_bind_ms"):
            entry[key] = round(entry[key], 3)
        entry["mean_ms"] = round(entry["execute_ms"] / entry["execute_count"], 3) if entry["execute_count"] else None
    slowest = sorted(slowest, key=lambda e: -e["ms"])[:10]
    print(json.dumps({"measure": args.measure, "requests": args.requests, "statements": out, "slowest_executions": slowest}, ensure_ascii=False))


# ---- report ----

MEASURES = [
    ("track", "GET /api/v1/tracks/{id}"),
    ("album", "GET /api/v1/albums/{id}/tracks"),
    ("search", "GET /api/v1/search?q=…"),
    ("track-cached", "GET /api/v1/tracks/{id}, default read cache"),
]
BACKENDS = [("sqlite", "SQLite"), ("postgres", "PostgreSQL")]


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def fmt(s, digits=0, suffix=""):
    if not s:
        return "–"
    f = f"{{:,.{digits}f}}"
    if len(s["runs"]) == 1:
        return f"{f.format(s['median'])}{suffix}"
    return f"{f.format(s['median'])}{suffix} ({f.format(s['min'])}–{f.format(s['max'])})"


def ratio(s):
    if not s:
        return "–"
    if len(s["runs"]) == 1:
        return f"{s['median']:.2f}×"
    return f"{s['median']:.2f}× ({s['min']:.2f}–{s['max']:.2f})"


def g(run, name, key="cpu_us_per_request"):
    return run["groups"].get(name, {}).get(key)


def report(args):
    runs = [json.loads(line) for line in open(args.runs) if line.strip()]
    meta = json.load(open(args.meta))
    stmts = []
    if args.statements and os.path.exists(args.statements):
        stmts = [json.loads(line) for line in open(args.statements) if line.strip()]
    rounds = sorted({r["round"] for r in runs if r["kind"] == "wrk"})
    summary, ratios = {"import": {}, "read": {}, "scale": {}}, {"import": {}, "read": {}, "scale": {}}
    L = []
    machine = f"{meta['cores']} cores ({meta['cpu_model']})"
    L.append(f"SQLite and PostgreSQL over the same catalog ({meta['tracks']:,} tracks, {meta['albums']:,} albums, {meta['artists']:,} artists), "
             f"{meta['date']}, Encore {meta['commit']} ({meta['build']} build), {machine}, loopback; PostgreSQL {meta['postgres_version']}, HAProxy {meta['haproxy_version']}")
    L.append("")
    L.append(f"Median of {len(rounds)} interleaved rounds (min–max). **abs.** = this machine only; **ratio** = PostgreSQL ÷ SQLite from the same round.")
    L.append("")

    # import
    imports = [r for r in runs if r["kind"] == "import"]
    if imports:
        L += ["**Import** (`encore catalog import`, a fresh database each round)", "",
              "| database | tracks/s (abs.) | import s (abs.) | importer CPU s (abs.) | PostgreSQL CPU s (abs.) | tracks/s PG ÷ SQLite (ratio) |",
              "|---|---|---|---|---|---|"]
        by = {(r["target"], r["round"]): r for r in imports}
        import_rounds = sorted({r["round"] for r in imports})
        for backend, label in BACKENDS:
            rs = [by[(backend, n)] for n in import_rounds if (backend, n) in by]
            if not rs:
                continue
            s = {"tracks_per_s": spread([r["tracks_per_s"] for r in rs]), "import_seconds": spread([r["import_seconds"] for r in rs]),
                 "importer_cpu_s": spread([r["importer_cpu_s"] for r in rs]), "postgres_cpu_s": spread([g(r, "postgres", "cpu_s") for r in rs])}
            summary["import"][backend] = s
            cell = ""
            if backend == "postgres":
                pr = spread([by[("postgres", n)]["tracks_per_s"] / by[("sqlite", n)]["tracks_per_s"] for n in import_rounds if ("postgres", n) in by and ("sqlite", n) in by])
                ratios["import"]["tracks_per_s"] = pr
                cell = ratio(pr)
            L.append(f"| {label} | {fmt(s['tracks_per_s'])} | {fmt(s['import_seconds'], 2)} | {fmt(s['importer_cpu_s'], 2)} | "
                     f"{fmt(s['postgres_cpu_s'], 2) if backend == 'postgres' else '–'} | {cell} |")
        L.append("")

    # reads, one server at a time
    reads = [r for r in runs if r["kind"] == "wrk" and r["target"] in ("sqlite", "postgres")]
    if reads:
        L += [f"**Reads**, one `encore serve` at a time (wrk -t{meta['wrk_threads']} -c{meta['connections']} -d{meta['duration']}, rotating over "
              f"the paths; ENCORE_READ_CACHE_MS=0 unless said otherwise, so every read reaches the database)", "",
              "| request | database | req/s (abs.) | Encore CPU µs/req (abs.) | PostgreSQL CPU µs/req (abs.) | server CPU µs/req, both (abs.) | wrk CPU µs/req | p50 / p99 ms | cores busy: Encore / PostgreSQL | machine busy % | req/s PG ÷ SQLite (ratio) | server CPU/req PG ÷ SQLite (ratio) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        by = {(r["measure"], r["target"], r["round"]): r for r in reads}
        for measure_key, label in MEASURES:
            present = [b for b, _ in BACKENDS if any((measure_key, b, n) in by for n in rounds)]
            if not present:
                continue
            paths = next(r["paths"] for r in reads if r["measure"] == measure_key)
            for backend, blabel in BACKENDS:
                rs = [by[(measure_key, backend, n)] for n in rounds if (measure_key, backend, n) in by]
                if not rs:
                    continue
                s = {
                    "rps": spread([r["rps"] for r in rs]),
                    "encore_cpu_us_per_request": spread([g(r, "encore") for r in rs]),
                    "postgres_cpu_us_per_request": spread([g(r, "postgres") for r in rs]),
                    "server_cpu_us_per_request": spread([r["server_cpu_us_per_request"] for r in rs]),
                    "wrk_cpu_us_per_request": spread([r["wrk_cpu_us_per_request"] for r in rs]),
                    "latency_p50_ms": spread([r.get("latency_p50_ms") for r in rs]),
                    "latency_p99_ms": spread([r.get("latency_p99_ms") for r in rs]),
                    "machine_busy_pct": spread([r["machine_busy_pct"] for r in rs]),
                    "encore_cores_busy": spread([g(r, "encore", "cores_busy") for r in rs]),
                    "postgres_cores_busy": spread([g(r, "postgres", "cores_busy") for r in rs]),
                    "context_switches_per_request": spread([r.get("context_switches_per_request") for r in rs]),
                }
                summary["read"].setdefault(measure_key, {})[backend] = s
                cells = [f"{label} ({paths:,} {'queries' if measure_key == 'search' else 'ids'})" if backend == present[0] else "", blabel, fmt(s["rps"]), fmt(s["encore_cpu_us_per_request"], 1),
                         fmt(s["postgres_cpu_us_per_request"], 1) if backend == "postgres" else "–", fmt(s["server_cpu_us_per_request"], 1),
                         fmt(s["wrk_cpu_us_per_request"], 1),
                         f"{fmt(s['latency_p50_ms'], 2)} / {fmt(s['latency_p99_ms'], 2)}" if s["latency_p50_ms"] else "–",
                         f"{s['encore_cores_busy']['median']:.2f} / " + (f"{s['postgres_cores_busy']['median']:.2f}" if s["postgres_cores_busy"] else "–"),
                         fmt(s["machine_busy_pct"])]
                if backend == "postgres":
                    pair = [n for n in rounds if (measure_key, "sqlite", n) in by and (measure_key, "postgres", n) in by]
                    rr = spread([by[(measure_key, "postgres", n)]["rps"] / by[(measure_key, "sqlite", n)]["rps"] for n in pair])
                    cr = spread([by[(measure_key, "postgres", n)]["server_cpu_us_per_request"] / by[(measure_key, "sqlite", n)]["server_cpu_us_per_request"] for n in pair])
                    ratios["read"][measure_key] = {"rps": rr, "server_cpu_per_request": cr}
                    cells += [ratio(rr), ratio(cr)]
                else:
                    cells += ["", ""]
                L.append("| " + " | ".join(cells) + " |")
        L.append("")

    # scale-out
    scale = [r for r in runs if r["kind"] == "wrk" and r["target"].startswith("haproxy-")]
    if scale:
        L += [f"**Scale-out**: `GET /api/v1/tracks/{{id}}` through HAProxy (nbthread 1, round robin) to `encore serve --role api` instances on one "
              f"PostgreSQL{' primary (reads from its streaming replica)' if meta.get('replica') else ''}, ENCORE_READ_CACHE_MS={meta['scale_read_cache_ms']}; both instances run in "
              "every round, the one-instance HAProxy sends everything to the first", "",
              "| API instances | req/s (abs.) | Encore µs/req | HAProxy µs/req | PostgreSQL µs/req | wrk µs/req | cores busy: Encore / HAProxy / PostgreSQL / wrk / interrupts | machine busy % | context switches / req | p50 / p99 ms | req/s two ÷ one (ratio) |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
        by = {(r["target"], r["measure"], r["round"]): r for r in scale}
        scale_rounds = sorted({r["round"] for r in scale})
        measures = sorted({r["measure"] for r in scale})
        for measure_key in measures:
            for target in ("haproxy-1", "haproxy-2"):
                rs = [by[(target, measure_key, n)] for n in scale_rounds if (target, measure_key, n) in by]
                if not rs:
                    continue
                s = {
                    "rps": spread([r["rps"] for r in rs]),
                    "encore_cpu_us_per_request": spread([g(r, "encore") for r in rs]),
                    "haproxy_cpu_us_per_request": spread([g(r, "haproxy") for r in rs]),
                    "postgres_cpu_us_per_request": spread([g(r, "postgres") for r in rs]),
                    "wrk_cpu_us_per_request": spread([r["wrk_cpu_us_per_request"] for r in rs]),
                    "encore_cores_busy": spread([g(r, "encore", "cores_busy") for r in rs]),
                    "haproxy_cores_busy": spread([g(r, "haproxy", "cores_busy") for r in rs]),
                    "postgres_cores_busy": spread([g(r, "postgres", "cores_busy") for r in rs]),
                    "wrk_cores_busy": spread([r["wrk_cores_busy"] for r in rs]),
                    "irq_cores_busy": spread([r["irq_cores_busy"] for r in rs]),
                    "machine_busy_pct": spread([r["machine_busy_pct"] for r in rs]),
                    "context_switches_per_request": spread([r.get("context_switches_per_request") for r in rs]),
                    "latency_p50_ms": spread([r.get("latency_p50_ms") for r in rs]),
                    "latency_p99_ms": spread([r.get("latency_p99_ms") for r in rs]),
                    "per_instance_cores_busy": [spread([r["groups"]["encore"]["per_pid_cpu_s"][pid] / r["window_s"] for r in rs]) for pid in rs[0]["groups"]["encore"]["per_pid_cpu_s"]],
                }
                summary["scale"].setdefault(measure_key, {})[target] = s
                cores = " / ".join(f"{s[k]['median']:.2f}" for k in ("encore_cores_busy", "haproxy_cores_busy", "postgres_cores_busy", "wrk_cores_busy", "irq_cores_busy"))
                cell = ""
                if target == "haproxy-2":
                    pair = [n for n in scale_rounds if ("haproxy-1", measure_key, n) in by and ("haproxy-2", measure_key, n) in by]
                    rr = spread([by[("haproxy-2", measure_key, n)]["rps"] / by[("haproxy-1", measure_key, n)]["rps"] for n in pair])
                    ratios["scale"][measure_key] = {"rps": rr}
                    cell = ratio(rr)
                L.append(f"| {target[-1]} | {fmt(s['rps'])} | {fmt(s['encore_cpu_us_per_request'], 1)} | {fmt(s['haproxy_cpu_us_per_request'], 1)} | "
                         f"{fmt(s['postgres_cpu_us_per_request'], 1)} | {fmt(s['wrk_cpu_us_per_request'], 1)} | {cores} | {fmt(s['machine_busy_pct'])} | {fmt(s['context_switches_per_request'], 1)} | "
                         f"{fmt(s['latency_p50_ms'], 2)} / {fmt(s['latency_p99_ms'], 2)} | {cell} |")
        L.append("")
        L.append(saturation(summary["scale"], meta))
        L.append("")

    # PostgreSQL statements
    if stmts:
        L += ["**PostgreSQL statements** behind each request (log_min_duration_statement = 0 on the throw-away server, a separate pass after the "
              "measured windows, 4 connections): the statements with the most total execution time", "",
              "| request | statement (shortened) | executions per request | execute mean ms | execute max ms | parse / bind (planning) / execute ms per request |", "|---|---|---|---|---|---|"]
        for entry in stmts:
            label = dict(MEASURES).get(entry["measure"], entry["measure"])
            requests = entry["requests"] or 0
            executions = sum(st["execute_count"] for st in entry["statements"])
            ms = sum(st["execute_ms"] + st["parse_bind_ms"] for st in entry["statements"])
            if requests:
                parts = " / ".join(f"{sum(st[k] for st in entry['statements']) / requests:.3f}" for k in ("parse_ms", "bind_ms", "execute_ms"))
                L.append(f"| {label} | all statements ({len(entry['statements'])} distinct) | {executions / requests:.2f} | | | {parts} (total {ms / requests:.3f}) |")
            for st in entry["statements"][:args.top_statements]:
                text = st["statement"]
                short = ((text[:140] + "…") if len(text) > 140 else text).replace("|", "\\|")
                per = f"{st['execute_count'] / requests:.2f}" if requests else str(st["execute_count"])
                total = " / ".join(f"{st[k] / requests:.3f}" for k in ("parse_ms", "bind_ms", "execute_ms")) if requests else "–"
                L.append(f"| | `{short}` | {per} | {st['mean_ms'] if st['mean_ms'] is not None else '–'} | {st.get('max_ms', '–')} | {total} |")
        L.append("")
        slow = [(entry["measure"], e) for entry in stmts for e in entry.get("slowest_executions", [])[:args.slowest]]
        if slow:
            L.append("Slowest single executions in that pass: " + "; ".join(
                f"{dict(MEASURES).get(m, m)}: {e['ms']:.1f} ms, `{e['statement'][:90]}…`" + (f" with {e['parameters'][:160]}" if e.get("parameters") else "")
                for m, e in slow) + ".")
            L.append("")

    wrk_runs = [r for r in runs if r["kind"] == "wrk"]
    if wrk_runs:
        other = [r["other_cores_busy"] for r in wrk_runs]
        disturbed = sum(1 for r in wrk_runs if r.get("disturbed"))
        retried = sum(1 for r in wrk_runs if r.get("attempt", 1) > 1)
        L.append(f"Over the wrk windows, other processes kept {statistics.median(other):.2f} cores busy (median; max {max(other):.2f})."
                 + (f" {retried} windows were measured again because other work disturbed them." if retried else "")
                 + (f" {disturbed} stayed disturbed: their req/s are unreliable." if disturbed else ""))
    if meta.get("search_check"):
        c = meta["search_check"]
        L.append(f"Search answers, SQLite against PostgreSQL, same queries: {c['same_ranked_answers']} of {c['queries']} identical in names and order, "
                 f"{c['same_result_sets']} with the same results in any order"
                 + (f"; of the {c['queries'] - c['same_ranked_answers']} others, {c.get('differing_only_among_tied_scores', 0)} differ only where results have "
                    "equal scores (ties, which each engine orders by its own ids); examples in the JSON's meta.search_check" if c["queries"] != c["same_ranked_answers"] else "") + ".")
    L.append(f"Encore binary: {meta['encore_binary']} ({meta['build']} build of {meta['commit']}, built {meta['encore_binary_built']}); "
             f"the whole run took {meta['runtime_s'] // 60} min {meta['runtime_s'] % 60} s. JSON: {args.json_label or args.json}")
    table = "\n".join(L)
    print(table)
    with open(args.json, "w") as f:
        json.dump({"meta": meta, "summary": summary, "ratios": ratios, "runs": runs, "postgres_statements": stmts, "markdown": table}, f, indent=2, ensure_ascii=False)
        f.write("\n")


def saturation(scale, meta):
    """A sentence naming what limits reads/s on this machine, from the two-instance windows."""
    sentences = []
    for measure_key, targets in scale.items():
        for target in ("haproxy-1", "haproxy-2"):
            s = targets.get(target)
            if not s:
                continue
            busy = s["machine_busy_pct"]["median"]
            parts = {"Encore": s["encore_cores_busy"]["median"], "HAProxy": s["haproxy_cores_busy"]["median"],
                     "PostgreSQL": s["postgres_cores_busy"]["median"], "wrk": s["wrk_cores_busy"]["median"],
                     "interrupts (loopback TCP)": s["irq_cores_busy"]["median"]}
            order = sorted(parts.items(), key=lambda kv: -kv[1])
            share = ", ".join(f"{name} {value:.2f}" for name, value in order)
            n = target[-1]
            if busy >= 90:
                verdict = f"the machine's CPU is saturated ({busy:.0f} % of {meta['cores']} cores busy)"
            else:
                verdict = f"the machine's CPU is not saturated ({busy:.0f} % of {meta['cores']} cores busy)"
            single = [name for name, value in parts.items() if name in ("HAProxy", "wrk") and value >= 0.9]
            if single:
                verdict += f"; {' and '.join(single)} (one thread each) kept a whole core busy"
            sentences.append(f"With {n} instance{'s' if n != '1' else ''}, {verdict}; cores used: {share}.")
    for measure_key, targets in scale.items():
        one, two = targets.get("haproxy-1"), targets.get("haproxy-2")
        if one and two:
            keys = ("encore_cpu_us_per_request", "haproxy_cpu_us_per_request", "postgres_cpu_us_per_request")
            cost1 = sum(one[k]["median"] for k in keys)
            cost2 = sum(two[k]["median"] for k in keys)
            sentences.append(f"Per request, Encore + HAProxy + PostgreSQL cost {cost1:,.0f} µs of CPU with one instance and {cost2:,.0f} µs with two "
                             f"({cost2 / cost1:.2f}×; Encore {one['encore_cpu_us_per_request']['median']:,.0f} → {two['encore_cpu_us_per_request']['median']:,.0f} µs, "
                             f"PostgreSQL {one['postgres_cpu_us_per_request']['median']:,.0f} → {two['postgres_cpu_us_per_request']['median']:,.0f} µs): "
                             f"once every core is busy, req/s is about the busy cores divided by that cost.")
    return "Saturation: " + " ".join(sentences)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="subcommand", required=True)
    q = sub.add_parser("queries")
    q.add_argument("catalog")
    q.add_argument("out")
    q.add_argument("--count", type=int, default=500)
    q.add_argument("--seed", type=int, default=7)
    p = sub.add_parser("pick")
    p.add_argument("--sqlite")
    p.add_argument("--postgres")
    p.add_argument("--kind", choices=["track", "album"], required=True)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--out", required=True)

    def quiet_options(x):
        x.add_argument("--max-other", type=float, default=0.25, help="cores other processes may keep busy")
        x.add_argument("--quiet-wait", type=float, default=60, help="seconds to wait for a quiet machine first")

    i = sub.add_parser("import")
    i.add_argument("--label", required=True)
    i.add_argument("--round", type=int, default=0)
    i.add_argument("--group", action="append")
    quiet_options(i)
    i.add_argument("command", nargs=argparse.REMAINDER)
    m = sub.add_parser("measure")
    m.add_argument("url")
    m.add_argument("paths")
    m.add_argument("--target", required=True)
    m.add_argument("--measure", required=True)
    m.add_argument("--round", type=int, default=0)
    m.add_argument("--group", action="append", required=True)
    m.add_argument("--header", "-H", action="append")
    m.add_argument("--threads", type=int, default=1)
    m.add_argument("--connections", type=int, default=64)
    m.add_argument("--duration", default="5s")
    m.add_argument("--warmup", default="1s")
    m.add_argument("--retries", type=int, default=2)
    quiet_options(m)
    fs = sub.add_parser("fetch-search")
    fs.add_argument("url")
    fs.add_argument("paths")
    fs.add_argument("out")
    fs.add_argument("--header", "-H", action="append")
    fs.add_argument("--limit", type=int, default=0)
    cs = sub.add_parser("compare-search")
    cs.add_argument("a")
    cs.add_argument("b")
    ps = sub.add_parser("pg-statements")
    ps.add_argument("log")
    ps.add_argument("--from", dest="start", type=int, required=True)
    ps.add_argument("--to", dest="end", type=int, default=0)
    ps.add_argument("--measure", required=True)
    ps.add_argument("--requests", type=int, default=0)
    r = sub.add_parser("report")
    r.add_argument("runs")
    r.add_argument("--meta", required=True)
    r.add_argument("--json", required=True)
    r.add_argument("--json-label")
    r.add_argument("--statements")
    r.add_argument("--top-statements", type=int, default=4)
    r.add_argument("--slowest", type=int, default=1, help="slowest executions shown per request kind")
    args = parser.parse_args()
    {"queries": queries, "pick": pick, "import": run_import, "measure": measure, "fetch-search": fetch_search,
     "compare-search": compare_search, "pg-statements": pg_statements, "report": report}[args.subcommand](args)


if __name__ == "__main__":
    main()

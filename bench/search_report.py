"""Helpers of bench/search.sh: the HTTP client run against `encore serve`, and the report.

Usage:
  search_report.py http BASE_URL QUERIES.txt [--passes 1] [--warmup 50] [--subsonic 6]
      registers a listener (and an app password for Subsonic), sends every query of the file, one at a
      time, as GET /api/v1/search?q=…&limit=10 with the query string form-encoded as browsers and client
      libraries send it (urllib.parse.urlencode: `+` for spaces, %XX for the rest) through one `requests`
      session (keep-alive), timed around the request and the reading of its body; then a few through the
      Subsonic endpoint /rest/search3.view (GET with u/p, GET with t/s, and a form-encoded POST body),
      each checked to answer status "ok". Prints one JSON line.
  search_report.py report WORK_DIR OUT.json [--meta KEY=VALUE …]
      reads the rounds bench/search.sh left in WORK_DIR, prints the Markdown table and writes OUT.json.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import secrets
import statistics
import sys
import time
import urllib.parse


def percentile(samples, p):
    """As `encore search bench` computes it: sorted samples, index min(n - 1, int(n * p))."""
    return samples[min(len(samples) - 1, int(len(samples) * p))]


# ---------------------------------------------------------------- HTTP


def http_command(args):
    import requests

    base = args.base.rstrip("/")
    api = base + "/api/v1"
    with open(args.queries, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    session = requests.Session()
    email = f"listener-{secrets.token_hex(4)}@bench.invalid"
    answer = session.post(api + "/auth/register", json={"email": email, "password": "benchmark password", "displayName": "Bench listener",
                                                        "role": "listener"}, timeout=30)
    answer.raise_for_status()
    session.headers["Authorization"] = "Bearer " + answer.json()["token"]

    def search(text):
        url = api + "/search?" + urllib.parse.urlencode({"q": text, "limit": 10})  # quote_plus: spaces as `+`
        start = time.perf_counter()
        response = session.get(url, timeout=30)
        body = response.content
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}: {body[:300]!r}")
        return elapsed, json.loads(body)

    for text in lines[: args.warmup]:
        search(text)
    samples = []
    empty = 0
    for pass_number in range(args.passes):
        for text in lines:
            elapsed, result = search(text)
            samples.append(elapsed)
            if pass_number == 0 and not (result.get("tracks") or result.get("albums") or result.get("artists")):
                empty += 1
    samples.sort()
    example = api + "/search?" + urllib.parse.urlencode({"q": max(lines, key=lambda q: sum(not c.isalnum() for c in q)), "limit": 10})

    # Subsonic: an app password, then search3 as apps send it.
    answer = session.post(api + "/users/me/app-passwords", json={"name": "search benchmark"}, timeout=30)
    answer.raise_for_status()
    secret = answer.json()["secret"]
    subsonic = []
    for n, text in enumerate(lines[: args.subsonic]):
        params = {"v": "1.16.1", "c": "encore-bench", "f": "json", "query": text, "artistCount": 10, "albumCount": 10, "songCount": 10}
        style = ("GET u/p", "GET u/t/s", "POST form u/t/s")[n % 3]
        if style == "GET u/p":
            params.update(u=email, p=secret)
        else:
            salt = secrets.token_hex(6)
            params.update(u=email, t=hashlib.md5((secret + salt).encode()).hexdigest(), s=salt)
        start = time.perf_counter()
        if style.startswith("POST"):
            response = requests.post(base + "/rest/search3.view", data=urllib.parse.urlencode(params),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
        else:
            response = requests.get(base + "/rest/search3.view?" + urllib.parse.urlencode(params), timeout=30)
        elapsed = (time.perf_counter() - start) * 1000
        envelope = response.json().get("subsonic-response", {}) if response.status_code == 200 else {}
        found = envelope.get("searchResult3", {})
        subsonic.append({"query": text, "style": style, "http": response.status_code, "status": envelope.get("status"),
                         "error": envelope.get("error"), "ms": round(elapsed, 2),
                         "artists": len(found.get("artist", [])), "albums": len(found.get("album", [])), "songs": len(found.get("song", []))})
    # The same call with a wrong password must fail (Subsonic error 40), so `ok` above means signed in.
    wrong = requests.get(base + "/rest/search3.view?" + urllib.parse.urlencode(
        {"v": "1.16.1", "c": "encore-bench", "f": "json", "query": lines[0], "u": email, "p": "not-the-app-password"}), timeout=30)
    wrong_error = (wrong.json().get("subsonic-response", {}).get("error") or {}).get("code") if wrong.status_code == 200 else None
    print(json.dumps({
        "client": f"python-requests {requests.__version__}, one keep-alive session, sequential", "encoding": "application/x-www-form-urlencoded (urlencode, + for spaces)",
        "example_url": example.replace(base, ""), "queries": len(samples), "distinct_queries": len(lines), "passes": args.passes, "warmup": args.warmup,
        "p50_ms": round(percentile(samples, 0.5), 3), "p95_ms": round(percentile(samples, 0.95), 3), "p99_ms": round(percentile(samples, 0.99), 3),
        "max_ms": round(samples[-1], 3), "queries_without_hits": empty,
        "subsonic": subsonic, "subsonic_ok": sum(s["status"] == "ok" for s in subsonic), "subsonic_wrong_password_error": wrong_error,
    }))


# ---------------------------------------------------------------- report

IMPORT = re.compile(r"imported (\d+) tracks from (\d+) lines in ([\d.]+) s \((\d+) tracks/s\), skipped (\d+) bad lines")
BENCH = re.compile(r"queries (\d+)\s+p50 ([\d.]+) ms\s+p95 ([\d.]+) ms\s+p99 ([\d.]+) ms\s+max ([\d.]+) ms")


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.loads(f.read().strip().splitlines()[-1])


def read_round(folder):
    def text(name):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            return f.read().strip()

    line = text("encore_import.out").splitlines()[-1]
    found = IMPORT.search(line)
    if not found:
        sys.exit(f"cannot read Encore's import line: {line!r}")
    encore_import = {"line": line, "tracks": int(found[1]), "lines": int(found[2]), "wall_s": float(found[3]), "rate": float(found[4]),
                     "skipped": int(found[5]), "process": read_json(os.path.join(folder, "encore_import.time")),
                     "size_mib": float(text("encore_size_mib"))}
    line = text("encore_query.out").splitlines()[-1]
    found = BENCH.search(line)
    if not found:
        sys.exit(f"cannot read Encore's bench line: {line!r}")
    encore_query = {"line": line, "queries": int(found[1]), "p50_ms": float(found[2]), "p95_ms": float(found[3]), "p99_ms": float(found[4]),
                    "max_ms": float(found[5])}
    tantivy_index = read_json(os.path.join(folder, "tantivy_index.out"))
    tantivy_index["process"] = read_json(os.path.join(folder, "tantivy_index.time"))
    return {"round": int(os.path.basename(folder).split("-")[1]), "first": text("first"), "encore_import": encore_import,
            "tantivy_index": tantivy_index, "encore_query": encore_query, "tantivy_query": read_json(os.path.join(folder, "tantivy_query.out"))}


def spread(values):
    """Median and range of a list of numbers."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


def show(summary, digits):
    if summary is None:
        return "–"
    fmt = f"{{:,.{digits}f}}"
    median, low, high = (fmt.format(summary[k]) for k in ("median", "min", "max"))
    return median if len(summary["values"]) == 1 else f"{median} ({low}–{high})"


def report_command(args):
    meta = dict(item.split("=", 1) for item in args.meta)
    rounds = sorted((read_round(folder) for folder in glob.glob(os.path.join(args.work, "round-*"))), key=lambda r: r["round"])
    if not rounds:
        sys.exit("no rounds")
    http = read_json(os.path.join(args.work, "http.json")) if os.path.exists(os.path.join(args.work, "http.json")) else None
    for r in rounds:
        if r["encore_import"]["tracks"] != r["tantivy_index"]["tracks"]:
            sys.exit(f"round {r['round']}: Encore imported {r['encore_import']['tracks']} tracks, Tantivy indexed {r['tantivy_index']['tracks']}")

    def cpu(process):
        return process["user_s"] + process["sys_s"]

    # (key, label, Encore's figure, Tantivy's figure, digits, goal on the ratio (text, test) or None)
    measures = [
        ("import_rate", "import / index rate (tracks/s)", lambda r: r["encore_import"]["rate"], lambda r: r["tantivy_index"]["rate"], 0,
         ("≥ 0.5", lambda ratio: ratio >= 0.5)),
        ("import_wall_s", "import / index time (s)", lambda r: r["encore_import"]["wall_s"], lambda r: r["tantivy_index"]["wall_s"], 2, None),
        ("import_cpu_s", "import / index process CPU, user + sys (s)", lambda r: cpu(r["encore_import"]["process"]),
         lambda r: cpu(r["tantivy_index"]["process"]), 2, None),
        ("import_max_rss_mb", "import / index process max RSS (MB)", lambda r: r["encore_import"]["process"]["max_rss_kb"] / 1024,
         lambda r: r["tantivy_index"]["process"]["max_rss_kb"] / 1024, 0, None),
        ("size_mib", "on disk (MiB): Encore's whole database, Tantivy's index", lambda r: r["encore_import"]["size_mib"],
         lambda r: r["tantivy_index"]["size_mib"], 1, None),
        ("query_p50_ms", "query p50 (ms)", lambda r: r["encore_query"]["p50_ms"], lambda r: r["tantivy_query"]["p50_ms"], 3, None),
        ("query_p95_ms", "query p95 (ms)", lambda r: r["encore_query"]["p95_ms"], lambda r: r["tantivy_query"]["p95_ms"], 3, None),
        ("query_p99_ms", "query p99 (ms)", lambda r: r["encore_query"]["p99_ms"], lambda r: r["tantivy_query"]["p99_ms"], 3,
         ("≤ 1", lambda ratio: ratio <= 1)),
        ("query_max_ms", "query max (ms)", lambda r: r["encore_query"]["max_ms"], lambda r: r["tantivy_query"]["max_ms"], 3, None),
    ]
    results = {}
    table = []
    for key, label, encore, tantivy_, digits, goal in measures:
        e = spread([encore(r) for r in rounds])
        t = spread([tantivy_(r) for r in rounds])
        ratio = spread([encore(r) / tantivy_(r) if tantivy_(r) else float("nan") for r in rounds])
        met = None if goal is None else goal[1](ratio["median"])
        results[key] = {"encore": e, "tantivy": t, "ratio_encore_over_tantivy": ratio, "goal": goal and goal[0], "goal_met": met}
        mark = "" if goal is None else f"{goal[0]} {'✅' if met else '❌'}"
        table.append(f"| {label} | {show(e, digits)} | {show(t, digits)} | {show(ratio, 2)} | {mark} |")
    if http:
        table.append(f"| Encore over HTTP, form-encoded: GET /api/v1/search p50 / p99 (ms), client-side | {http['p50_ms']:.3f} / {http['p99_ms']:.3f} | – | – "
                     f"(not the engine comparison) | |")
        items = sum(s["artists"] + s["albums"] + s["songs"] for s in http["subsonic"])
        table.append(f"| Subsonic /rest/search3.view (form-encoded; u/p, t/s, POST body) answered `ok`; wrong password → error "
                     f"| {http['subsonic_ok']} of {len(http['subsonic'])} ({items} items¹); {http.get('subsonic_wrong_password_error')} | – | – | all; 40 |")
    tantivy_empty = spread([r["tantivy_query"]["queries_without_hits"] for r in rounds])
    encore_empty = http["queries_without_hits"] if http else None
    table.append(f"| queries with no hit at all (of {rounds[0]['tantivy_query']['distinct_queries']:,} distinct) | "
                 f"{'–' if encore_empty is None else encore_empty}² | {show(tantivy_empty, 0)} | – | |")

    first = rounds[0]
    queries = first["encore_query"]["queries"]
    distinct = first["tantivy_query"]["distinct_queries"]
    caption = (f"Search, Encore vs Tantivy {first['tantivy_index'].get('tantivy_version', '')}: {int(meta.get('tracks', first['encore_import']['tracks'])):,} tracks, "
               f"{distinct:,} queries × {first['tantivy_query']['passes']} passes ({queries:,} timed each), {len(rounds)} interleaved rounds, "
               f"commit {meta.get('commit', '?')}, {meta.get('date', '')}, {meta.get('cores', '?')} cores ({meta.get('cpu_model', '?')})")
    lines = [caption, "",
             "Figures are the median over rounds (min–max). **abs.** columns are absolute, this machine only; the **ratio** column "
             "(Encore ÷ Tantivy, computed per round, then the median) is what compares across machines. Both engines in-process, "
             "one query at a time, after a 50-query warm-up; Tantivy with one indexing thread.", "",
             "| measure | Encore (abs.) | Tantivy (abs.) | Encore ÷ Tantivy (ratio) | goal (on the ratio) |", "|---|---|---|---|---|", *table]
    lines += ["", "¹ imported tracks have no audio (`pending`), and Subsonic lists only playable tracks and the artists and albums "
                  "that have one, so search3 answers empty lists here: the row shows that the endpoint signs in and answers.",
              "² from the HTTP pass (the same engine and data dir as the last round); a query with no hit is a recall "
              "failure, since every query is drawn from a catalog record. Recall is not otherwise compared."]
    print("\n".join(lines))
    document = {"meta": {**meta, "rounds": len(rounds), "queries_distinct": distinct, "queries_timed": queries},
                "results": results, "http": http, "rounds": rounds, "markdown": "\n".join(lines)}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    http = commands.add_parser("http")
    http.add_argument("base")
    http.add_argument("queries")
    http.add_argument("--passes", type=int, default=1)
    http.add_argument("--warmup", type=int, default=50)
    http.add_argument("--subsonic", type=int, default=6, help="queries sent through /rest/search3.view")
    report = commands.add_parser("report")
    report.add_argument("work")
    report.add_argument("out")
    report.add_argument("--meta", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    http_command(args) if args.command == "http" else report_command(args)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Search benchmark (not a test): Encore's search against Tantivy (the Rust search engine, through its
# official Python bindings, PyPI `tantivy`) on the same catalog and the same queries, in the same run.
#  1. generates a catalog with bench/make_catalog.py (default 1,000,000 tracks: 100k artists, 250k
#     albums) and its fixed query mix (exact names, prefixes as typed, one typo, title + artist);
#  2. ROUNDS interleaved rounds (default 3). In each: `encore catalog import` into a fresh data dir and
#     bench/tantivy_search.py index into a fresh index dir (one indexing thread), then the query mix on
#     both, in-process (`encore search bench --passes PASSES`: every query searches artists, albums and
#     tracks, limit 10; bench/tantivy_search.py query: the same tolerance as a Tantivy query, top 10), each
#     after a 50-query warm-up. Odd rounds run Encore first, even rounds Tantivy first, in both phases.
#     Each process runs under /usr/bin/time (CPU, max RSS);
#  3. on the last round's data dir, `encore serve` on loopback (ENCORE_LOG_LEVEL=warning), a listener
#     account, and the query mix as real clients send it: GET /api/v1/search?q=… form-encoded (`+` for
#     spaces) through Python `requests`, sequentially (HTTP_PASSES passes, default 1), plus a few
#     /rest/search3.view calls (u/p, t/s, a form POST) that must answer `ok`: an extra row, not part of
#     the engine comparison. The server is stopped;
#  4. prints a Markdown table (medians over rounds, min–max; absolute figures and Encore ÷ Tantivy ratios
#     computed per round, with the goals: query p99 ratio ≤ 1, import rate ratio ≥ 0.5) and writes
#     everything to bench/results/search-DATE.json (bench/search_report.py).
# Environment: TRACKS (1000000), ROUNDS (3), PASSES (3), HTTP_PASSES (1), TANTIVY_HEAP (128000000 bytes),
# HTTP=0 to skip step 3.
# ENCORE_BINARY=path uses that binary instead of running `swift build -c release --product encore`.
# Writes only to a temporary directory (and bench/results); stops everything it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started_at=$(date +%s)
tracks=${TRACKS:-1000000}
rounds=${ROUNDS:-3}
passes=${PASSES:-3}
http_passes=${HTTP_PASSES:-1}
heap=${TANTIVY_HEAP:-128000000}
http=${HTTP:-1}
scripts/install-deps
python3 -c "import tantivy, requests" 2>/dev/null || python3 -m pip install -q tantivy requests
[ -x /usr/bin/time ] || { echo "bench/search.sh needs GNU time (/usr/bin/time, Debian package time)" >&2; exit 1; }
if [ -n "${ENCORE_BINARY:-}" ]; then
    binary=$ENCORE_BINARY
else
    swift build -c release --product encore >/dev/null
    binary=$root/.build/release/encore
fi

source scripts/lib/encore-server.sh
work=$(mktemp -d)
cleanup() {
    stop_encore
    rm -rf "$work"
}
trap cleanup EXIT

echo "generating $tracks tracks ..." >&2
python3 bench/make_catalog.py "$tracks" "$work/catalog.jsonl" "$work/queries.txt"

# timed NAME COMMAND…: stdout to NAME.out, stderr to NAME.err (shown on failure), time and RSS to NAME.time.
timed() {
    local name=$1
    shift
    /usr/bin/time -f '{"wall_s": %e, "user_s": %U, "sys_s": %S, "max_rss_kb": %M}' -o "$name.time" "$@" > "$name.out" 2> "$name.err" || {
        echo "failed: $*" >&2
        tail -n 30 "$name.err" >&2
        return 1
    }
}
build() {  # ENGINE DIR
    case $1 in
        encore)
            rm -rf "$work/encore-data"
            timed "$2/encore_import" "$binary" catalog import "$work/catalog.jsonl" --data-dir "$work/encore-data"
            du -sm "$work/encore-data/encore.sqlite" | cut -f1 > "$2/encore_size_mib"
            echo "  encore:  $(tail -n1 "$2/encore_import.out")" >&2 ;;
        tantivy)
            rm -rf "$work/tantivy-index"
            timed "$2/tantivy_index" python3 "$root/bench/tantivy_search.py" index "$work/catalog.jsonl" "$work/tantivy-index" --heap "$heap"
            echo "  tantivy: $(cat "$2/tantivy_index.out")" >&2 ;;
    esac
}
query() {  # ENGINE DIR
    case $1 in
        encore)
            timed "$2/encore_query" "$binary" search bench --data-dir "$work/encore-data" --queries "$work/queries.txt" --passes "$passes"
            echo "  encore:  $(cat "$2/encore_query.out")" >&2 ;;
        tantivy)
            timed "$2/tantivy_query" python3 "$root/bench/tantivy_search.py" query "$work/tantivy-index" "$work/queries.txt" --passes "$passes"
            echo "  tantivy: $(cat "$2/tantivy_query.out")" >&2 ;;
    esac
}

for round in $(seq 1 "$rounds"); do
    dir=$work/round-$round
    mkdir -p "$dir"
    if [ $((round % 2)) -eq 1 ]; then order=(encore tantivy); else order=(tantivy encore); fi
    echo "${order[0]}" > "$dir/first"
    echo "round $round of $rounds (${order[0]} first): import / index" >&2
    for engine in "${order[@]}"; do build "$engine" "$dir"; done
    echo "round $round of $rounds: queries" >&2
    for engine in "${order[@]}"; do query "$engine" "$dir"; done
done

if [ "$http" = 1 ]; then
    echo "Encore over HTTP (GET /api/v1/search, form-encoded) and Subsonic search3 ..." >&2
    ENCORE_LOG_LEVEL=warning start_encore "$binary" "$work/encore-data" "$work/server.log"
    python3 bench/search_report.py http "http://127.0.0.1:$port" "$work/queries.txt" --passes "$http_passes" > "$work/http.json"
    stop_encore
fi

date=$(date -u +%F)
binary_built=$(date -u -r "$binary" +%FT%TZ 2>/dev/null || echo unknown)
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
printf '\n'
python3 bench/search_report.py report "$work" "$root/bench/results/search-$date.json" --meta \
    "date=$date" "started=$(date -u -d "@$started_at" +%FT%TZ)" "runtime_s=$(($(date +%s) - started_at))" "cores=$(nproc)" \
    "cpu_model=${cpu_model:-unknown}" "commit=$(git rev-parse --short HEAD)" "encore_binary=$binary" "encore_binary_built=$binary_built" \
    "tracks=$tracks" "passes=$passes" "http_passes=$http_passes" "tantivy_heap_bytes=$heap" "tantivy_indexing_threads=1" \
    "python=$(python3 -c 'import platform; print(platform.python_version())')" \
    "requests=$(python3 -c 'import requests; print(requests.__version__)')"
printf '\n(written to bench/results/search-%s.json)\n' "$date"

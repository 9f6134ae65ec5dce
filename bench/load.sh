#!/usr/bin/env bash
# Load and latency benchmark (not a test), on loopback only, stopping everything it starts:
#  1. seeds a fresh `encore serve` (release build) with a few 150-second tracks through the real pipeline;
#  2. runs the listener simulator (bench/listeners.py): LISTENERS virtual listeners (default 2000) for
#     SECONDS (default 120) playing HLS at real pace with ABR switching; reports stream-start and segment
#     latency, stalls, errors, and the server's CPU and RSS;
# Prints a Markdown table (also written to bench/results/load.md). Request rates and CPU per request
# against nginx serving the same bytes are bench/requests.sh's (`make bench` runs both).
# ENCORE_BINARY=path uses that binary instead of running `swift build -c release --product encore`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
listeners=${LISTENERS:-2000}
seconds=${SECONDS_RUN:-120}
scripts/install-deps
python3 -c "import aiohttp" 2>/dev/null || python3 -m pip install -q aiohttp
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
cd "$work"
ulimit -n 65536 2>/dev/null || true

# No per-request access log (bench/requests.sh measures what the default, info, costs); warnings still go to the log.
ENCORE_LOG_LEVEL=warning start_encore "$binary" "$work/data" server.log
base=http://127.0.0.1:$port
api=$base/api/v1

seed_artist "$api"
: > tracks.txt
for n in 1 2 3 4; do
    bench_audio "t$n.flac" 150 "$n"
    upload_track "$api" "t$n.flac" "Track $n" >> tracks.txt
done
for track in $(cat tracks.txt); do wait_ready "$api" "$track"; done

echo "simulating $listeners listeners for $seconds s ..." >&2
report=$(python3 "$root/bench/listeners.py" "$base" tracks.txt --listeners "$listeners" --seconds "$seconds" --server-pid "$server_pid")
echo "$report" >&2

field() { echo "$report" | jq -r ".$1"; }
mkdir -p "$root/bench/results"
{
    printf 'Load and latency, %s, %s cores, loopback (%s listeners for %s s; log level warning)\n\n' "$(date -u +%Y-%m-%d)" "$(nproc)" "$listeners" "$seconds"
    printf '| measure | value | goal |\n|---|---|---|\n'
    printf '| plays started / segments fetched | %s / %s | |\n' "$(field plays)" "$(field segments)"
    printf '| errors / stalls | %s / %s | 0 / 0 |\n' "$(field errors)" "$(field stalls)"
    printf '| stream start p50 / p95 / p99 | %s / %s / %s ms | p50 ≤ 10, p99 ≤ 50 ms |\n' "$(field start_p50_ms)" "$(field start_p95_ms)" "$(field start_p99_ms)"
    printf '| segment fetch p50 / p99 | %s / %s ms | |\n' "$(field segment_p50_ms)" "$(field segment_p99_ms)"
    printf '| server CPU (avg) / RSS (max) | %s %% / %s MB | RSS ≤ 300 MB |\n' "$(field server_cpu_avg_pct)" "$(field server_rss_max_mb)"
} | tee "$root/bench/results/load.md"

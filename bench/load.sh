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

token=$(curl -sf "$api/auth/register" -H 'Content-Type: application/json' \
    -d '{"email":"artist@bench.invalid","password":"benchmark password","displayName":"Bench","role":"artist"}' | jq -r .token)
auth="Authorization: Bearer $token"
artist=$(curl -sf "$api/artists" -H "$auth" -H 'Content-Type: application/json' -d '{"name":"Bench Artist"}' | jq -r .id)
album=$(curl -sf "$api/albums" -H "$auth" -H 'Content-Type: application/json' -d "{\"artistId\":\"$artist\",\"title\":\"Bench Album\"}" | jq -r .id)
: > tracks.txt
for n in 1 2 3 4; do
    ffmpeg -nostdin -v error -f lavfi -i "sine=frequency=$((200 + n * 70)):duration=150" \
        -f lavfi -i "anoisesrc=color=pink:amplitude=0.3:duration=150:seed=$n" -filter_complex "amix=inputs=2:normalize=0" \
        -ac 2 -ar 44100 "t$n.flac"
    grant=$(curl -sf "$api/tracks/upload-url" -H "$auth")
    curl -sf -X PUT -H 'Expect:' --data-binary "@t$n.flac" "$(echo "$grant" | jq -r .uploadUrl)" >/dev/null
    curl -sf "$api/tracks" -H "$auth" -H 'Content-Type: application/json' -d "{\"albumId\":\"$album\",\"title\":\"Track $n\",\"trackUrl\":$(echo "$grant" | jq .trackUrl)}" | jq -r .id >> tracks.txt
done
for track in $(cat tracks.txt); do
    for _ in $(seq 1 600); do
        [ "$(curl -sf "$api/tracks/$track" -H "$auth" | jq -r .status)" = ready ] && break
        sleep 0.5
    done
done

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

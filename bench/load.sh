#!/usr/bin/env bash
# Load and latency benchmark (not a test), on loopback only, stopping everything it starts:
#  1. seeds a fresh `encore serve` (release build) with a few 150-second tracks through the real pipeline;
#  2. runs the listener simulator (bench/listeners.py): LISTENERS virtual listeners (default 2000) for
#     SECONDS (default 120) playing HLS at real pace with ABR switching; reports stream-start and segment
#     latency, stalls, errors, and the server's CPU and RSS;
#  3. compares request rates with wrk against an nginx serving the very same files: one media segment,
#     and the metadata response of GET /api/v1/tracks/{id} (nginx serves the same JSON bytes statically),
#     and against a bare Hummingbird server answering with the same bytes from memory (the ceiling of the
#     HTTP stack Encore is built on; bench/HummingbirdReference).
# Prints a Markdown table (also written to bench/results/load.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
listeners=${LISTENERS:-2000}
seconds=${SECONDS_RUN:-120}
scripts/install-deps
command -v wrk >/dev/null && command -v nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null; }
python3 -c "import aiohttp" 2>/dev/null || python3 -m pip install -q aiohttp
swift build -c release --product encore >/dev/null
swift build -c release --product hummingbird-reference >/dev/null
binary=$root/.build/release/encore

source scripts/lib/encore-server.sh
work=$(mktemp -d)
# nginx's worker runs as an unprivileged user: it must be able to read the files (mktemp makes 0700).
chmod 755 "$work"
nginx_pid=""
reference_pid=""
cleanup() {
    stop_encore
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
    [ -n "$reference_pid" ] && kill "$reference_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
ulimit -n 65536 2>/dev/null || true

# No per-request access log on either side (nginx below has `access_log off`); warnings still go to the log.
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

# Same files, two servers: Encore's media origin and nginx on the blob directory.
first=$(head -n1 tracks.txt)
hls=$(curl -sf "$api/tracks/$first/stream" -H "$auth" | jq -r .hls)
segment_url="${hls%/master.m3u8}/seg-1-00002.m4s"
segment_path=$(echo "$segment_url" | sed 's|^http://[^/]*/media/[^/]*/||')
curl -sf "$api/tracks/$first" -H "$auth" > metadata.json
mkdir -p static && cp metadata.json static/track.json
# Ports the kernel says are free now (port + 1 could be a client's port still in TIME_WAIT after the run).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ngport=$(free_port)
refport=$(free_port)
while [ "$refport" = "$ngport" ]; do refport=$(free_port); done
cat > nginx.conf <<NGINX
worker_processes 1;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    types { audio/mp4 m4s; application/json json; }
    server {
        listen 127.0.0.1:$ngport;
        location /blobs/ { alias $work/data/blobs/; }
        location /static/ { alias $work/static/; }
    }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
# The HTTP stack's own ceiling: bare Hummingbird answering with the same bytes from memory.
"$root/.build/release/hummingbird-reference" "$refport" "$work/data/blobs/$segment_path" metadata.json > reference.log 2>&1 &
reference_pid=$!
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$ngport/static/track.json" && curl -sf -o /dev/null "http://127.0.0.1:$refport/metadata" && break
    sleep 0.1
done
# Every server must answer with the very same bytes, or the comparison means nothing.
same_bytes() {
    local label=$1 reference=$2
    shift 2
    curl -sf "$@" -o "$work/compare.bin" || { echo "$label: request failed" >&2; exit 1; }
    cmp -s "$work/compare.bin" "$reference" || { echo "$label: not the same bytes as Encore's" >&2; exit 1; }
}
curl -sf "$segment_url" -o segment.bin
same_bytes "nginx segment" segment.bin "http://127.0.0.1:$ngport/blobs/$segment_path"
same_bytes "reference segment" segment.bin "http://127.0.0.1:$refport/segment"
same_bytes "nginx metadata" metadata.json "http://127.0.0.1:$ngport/static/track.json"
same_bytes "reference metadata" metadata.json "http://127.0.0.1:$refport/metadata"
same_bytes "Encore metadata" metadata.json -H "$auth" "$api/tracks/$first"
# Requests per second over 5 s; refuses to report a rate made of errors.
rate() {
    local output
    output=$(wrk -t1 -c64 -d5s "$@" 2>&1)
    if echo "$output" | grep -qE 'Non-2xx|Socket errors'; then
        echo "wrk saw errors for $*:" >&2
        echo "$output" >&2
        exit 1
    fi
    echo "$output" | awk '/Requests\/sec/ {print $2}'
}
# Three interleaved rounds, and the median of each: on a shared 2-core machine one run can be ±15% off.
rounds=3
declare -A runs
for _ in $(seq 1 "$rounds"); do
    runs[encore_segment]+=" $(rate "$segment_url")"
    runs[reference_segment]+=" $(rate "http://127.0.0.1:$refport/segment")"
    runs[nginx_segment]+=" $(rate "http://127.0.0.1:$ngport/blobs/$segment_path")"
    runs[encore_meta]+=" $(rate -H "$auth" "$api/tracks/$first")"
    runs[reference_meta]+=" $(rate "http://127.0.0.1:$refport/metadata")"
    runs[nginx_meta]+=" $(rate "http://127.0.0.1:$ngport/static/track.json")"
done
median() { printf '%s\n' $1 | sort -g | sed -n "$(((rounds + 1) / 2))p"; }
encore_segment=$(median "${runs[encore_segment]}")
reference_segment=$(median "${runs[reference_segment]}")
nginx_segment=$(median "${runs[nginx_segment]}")
encore_meta=$(median "${runs[encore_meta]}")
reference_meta=$(median "${runs[reference_meta]}")
nginx_meta=$(median "${runs[nginx_meta]}")
percent() { echo "$1 * 100 / $2" | bc -l | xargs printf '%.0f'; }

field() { echo "$report" | jq -r ".$1"; }
mkdir -p "$root/bench/results"
{
    printf 'Load and latency, %s, %s cores, loopback (%s listeners for %s s; wrk -t1 -c64, median of 3 interleaved 5-s runs; no access logs on either server)\n\n' "$(date -u +%Y-%m-%d)" "$(nproc)" "$listeners" "$seconds"
    printf '| measure | value | goal |\n|---|---|---|\n'
    printf '| plays started / segments fetched | %s / %s | |\n' "$(field plays)" "$(field segments)"
    printf '| errors / stalls | %s / %s | 0 / 0 |\n' "$(field errors)" "$(field stalls)"
    printf '| stream start p50 / p95 / p99 | %s / %s / %s ms | p50 ≤ 10, p99 ≤ 50 ms |\n' "$(field start_p50_ms)" "$(field start_p95_ms)" "$(field start_p99_ms)"
    printf '| segment fetch p50 / p99 | %s / %s ms | |\n' "$(field segment_p50_ms)" "$(field segment_p99_ms)"
    printf '| server CPU (avg) / RSS (max) | %s %% / %s MB | RSS ≤ 300 MB |\n' "$(field server_cpu_avg_pct)" "$(field server_rss_max_mb)"
    printf '| segment requests/s: Encore / nginx | %s / %s (%s%%) | ≥ 80%% |\n' "$encore_segment" "$nginx_segment" "$(percent "$encore_segment" "$nginx_segment")"
    printf '| metadata requests/s: Encore / nginx | %s / %s (%s%%) | ≥ 50%% |\n' "$encore_meta" "$nginx_meta" "$(percent "$encore_meta" "$nginx_meta")"
    printf '| bare Hummingbird, same bytes from memory: segment / metadata requests/s | %s (%s%% of nginx) / %s (%s%%) | ceiling of the HTTP stack |\n' \
        "$reference_segment" "$(percent "$reference_segment" "$nginx_segment")" "$reference_meta" "$(percent "$reference_meta" "$nginx_meta")"
    printf '| Encore against that ceiling: segment / metadata | %s%% / %s%% | |\n' \
        "$(percent "$encore_segment" "$reference_segment")" "$(percent "$encore_meta" "$reference_meta")"
} | tee "$root/bench/results/load.md"

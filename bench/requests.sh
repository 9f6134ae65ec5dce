#!/usr/bin/env bash
# Request benchmark (not a test), on loopback only, stopping everything it starts: requests/s and the
# server's own CPU time per request, Encore against nginx serving the very same bytes in the same run.
#  1. seeds a fresh `encore serve` (release build) with one 150-second track through the real pipeline;
#     the objects are segment #2 of each AAC rung (96, 160, 256 kbps, found through the stream answer's
#     HLS master and media playlists) and the JSON of GET /api/v1/tracks/{id} (bearer token);
#  2. nginx serves the same segment files from Encore's blob directory and the same JSON bytes as a static
#     file, with as many worker processes as Encore has event-loop threads (NIO's default: one per core),
#     access_log off, sendfile on; every object is checked byte for byte (curl + cmp) on both servers;
#  3. ROUNDS interleaved rounds: for each target (nginx, Encore at the default log level info, Encore at
#     ENCORE_LOG_LEVEL=warning; Encore is restarted on the same data dir to switch, and only one server is
#     measured at a time) and each object, a WARMUP wrk run, then a DURATION wrk run
#     (wrk -tWRK_THREADS -cCONNECTIONS) around which bench/cpu_per_request.py reads the server's
#     utime + stime from /proc/PID/stat (nginx: master + all workers); CPU per request = that delta /
#     requests completed. A wrk run with any socket error or non-2xx response aborts the benchmark.
#     The machine may be shared: before each window the helper waits (up to QUIET_WAIT s) until other
#     processes keep at most MAX_OTHER cores busy, and a window they disturbed anyway (from /proc/stat:
#     machine CPU - server - wrk > MAX_OTHER) is measured again, up to RETRIES times, then kept and counted;
#  4. prints a Markdown table of medians (min–max) with the Encore ÷ nginx ratios against the goals, and
#     writes every run to bench/results/requests-DATE.json.
#
# Usage: bench/requests.sh [--rounds 3] [--duration 5s] [--warmup 1s] [--connections 64] [--threads 1]
#            [--max-other 0.25] [--quiet-wait 60] [--retries 2]
# (or the environment: ROUNDS, DURATION, WARMUP, CONNECTIONS, WRK_THREADS, MAX_OTHER, QUIET_WAIT, RETRIES).
# ENCORE_BINARY=path uses that binary instead of running `swift build -c release --product encore`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rounds=${ROUNDS:-3}
duration=${DURATION:-5s}
warmup=${WARMUP:-1s}
connections=${CONNECTIONS:-64}
wrk_threads=${WRK_THREADS:-1}
max_other=${MAX_OTHER:-0.25}
quiet_wait=${QUIET_WAIT:-60}
retries=${RETRIES:-2}
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --threads) wrk_threads=$2; shift 2 ;;
        --max-other) max_other=$2; shift 2 ;;
        --quiet-wait) quiet_wait=$2; shift 2 ;;
        --retries) retries=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

scripts/install-deps
command -v wrk >/dev/null && command -v nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null; }
if [ -n "${ENCORE_BINARY:-}" ]; then
    binary=$ENCORE_BINARY
else
    swift build -c release --product encore >/dev/null
    binary=$root/.build/release/encore
fi
[ -x "$binary" ] || { echo "no Encore binary at $binary" >&2; exit 1; }

source scripts/lib/encore-server.sh
work=$(mktemp -d)
# nginx's workers run as an unprivileged user: they must be able to read the files (mktemp makes 0700).
chmod 755 "$work"
nginx_pid=""
cleanup() {
    stop_encore
    if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"
ulimit -n 65536 2>/dev/null || true
measure() { python3 "$root/bench/cpu_per_request.py" measure "$@"; }

# 1. One track through the real pipeline.
start_encore "$binary" "$work/data" server.log
api=http://127.0.0.1:$port/api/v1
seed_artist "$api"
bench_audio track.flac 150 1
track=$(upload_track "$api" track.flac "Bench Track")
wait_ready "$api" "$track"

# The objects: segment #2 of each AAC rung, from the master playlist (variants in ladder order; checked
# against their AVERAGE-BANDWIDTH) and each media playlist; and the track's JSON.
master_url=$(curl -sf "$api/tracks/$track/stream" -H "$auth" | jq -r .hls)
curl -sf "$master_url" -o master.m3u8
media_base=${master_url%%\?*}
media_base=${media_base%/*}
query=""
case $master_url in *\?*) query="?${master_url#*\?}" ;; esac
mapfile -t variants < <(awk -F'AVERAGE-BANDWIDTH=' '/^#EXT-X-STREAM-INF/ {split($2, a, ","); bw = a[1]; getline; print bw, $0}' master.m3u8)
[ ${#variants[@]} -eq 3 ] || { echo "expected 3 variants in the master playlist:" >&2; cat master.m3u8 >&2; exit 1; }
objects=(seg96 seg160 seg256 json)
declare -A encore_url nginx_url
rungs=(96 160 256)
for index in 0 1 2; do
    read -r bandwidth playlist <<< "${variants[$index]}"
    kbps=${rungs[$index]}
    # A rung's measured average rate is within a third of its nominal one (AAC on a tone + noise).
    if [ "$bandwidth" -lt $((kbps * 1000 * 2 / 3)) ] || [ "$bandwidth" -gt $((kbps * 1000 * 4 / 3)) ]; then
        echo "variant $index ($playlist) averages $bandwidth bit/s: not the $kbps kbps rung" >&2
        exit 1
    fi
    case $playlist in http*) playlist_url=$playlist ;; *) playlist_url="$media_base/$playlist$query" ;; esac
    curl -sf "$playlist_url" -o "media-$kbps.m3u8"
    segment=$(grep -v '^#' "media-$kbps.m3u8" | grep . | sed -n 2p)
    [ -n "$segment" ] || { echo "no segment #2 in $playlist" >&2; exit 1; }
    playlist_dir=${playlist_url%%\?*}
    playlist_dir=${playlist_dir%/*}
    case $segment in http*) url=$segment ;; *) url="$playlist_dir/$segment$query" ;; esac
    encore_url[seg$kbps]=${url/:$port\//:@PORT@/}
    # The blob key is the URL's path after /media/<token>/ (see bench/load.sh).
    key=$(echo "${url%%\?*}" | sed 's|^http://[^/]*/media/[^/]*/||')
    [ -f "$work/data/blobs/$key" ] || { echo "segment $url is not the blob file data/blobs/$key" >&2; exit 1; }
    nginx_url[seg$kbps]="/blobs/$key"
done
encore_url[json]="http://127.0.0.1:@PORT@/api/v1/tracks/$track"
mkdir -p static
curl -sf "$api/tracks/$track" -H "$auth" -o static/track.json
nginx_url[json]=/static/track.json
# The same request goes to both servers (nginx ignores the bearer header).
declare -A object_header=([json]="$auth")
headers() { if [ -n "${object_header[$1]:-}" ]; then printf '%s\0' -H "${object_header[$1]}"; fi; }

# 2. nginx with as many workers as Encore has event-loop threads: NIO names its singleton group's threads
#    NIO-SGLTN-<group>-#<n> (the blocking pool's are SGLTN-TP-#<n>) and other groups' NIO-ELT-<group>-#<n>.
threads=$(cat /proc/"$server_pid"/task/*/comm 2>/dev/null | grep -cE '^NIO-(SGLTN|ELT)-[0-9]+-#' || true)
[ "$threads" -gt 0 ] || { echo "no NIO event-loop threads in Encore's process: assuming one per core" >&2; threads=$(nproc); }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ngport=$(free_port)
cat > nginx.conf <<NGINX
worker_processes $threads;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    types { audio/mp4 m4s; application/json json; }
    server {
        listen 127.0.0.1:$ngport reuseport;
        location /blobs/ { alias $work/data/blobs/; }
        location /static/ { alias $work/static/; }
    }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$ngport/static/track.json" && break
    sleep 0.1
done

# Every object must be the very same bytes from both servers, or the comparison means nothing.
check_bytes() {
    local object
    local -a header
    for object in "${objects[@]}"; do
        mapfile -d '' -t header < <(headers "$object")
        curl -sf "${header[@]}" "http://127.0.0.1:$ngport${nginx_url[$object]}" -o "nginx-$object.bin" \
            || { echo "nginx $object: request failed" >&2; exit 1; }
        curl -sf "${header[@]}" "${encore_url[$object]/@PORT@/$port}" -o "encore-$object.bin" \
            || { echo "Encore $object: request failed" >&2; exit 1; }
        cmp -s "nginx-$object.bin" "encore-$object.bin" || { echo "$object: nginx and Encore answer different bytes" >&2; exit 1; }
    done
}
check_bytes

declare -A object_bytes
for object in "${objects[@]}"; do object_bytes[$object]=$(stat -c %s "nginx-$object.bin"); done
sizes=$(for object in "${objects[@]}"; do jq -n --arg o "$object" --argjson n "${object_bytes[$object]}" '{($o): $n}'; done | jq -s add)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$root" diff --quiet HEAD -- Sources 2>/dev/null || commit="$commit (Sources modified)"
built=$(date -u -r "$binary" +%Y-%m-%dT%H:%M:%SZ)
jq -n --arg date "$(date -u +%Y-%m-%d)" --arg started "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson cores "$(nproc)" \
    --argjson threads "$threads" --arg nginx "$(nginx -v 2>&1 | sed 's|.*/||')" --arg wrk "$(wrk -v 2>&1 | head -n1 | awk '{print $2}')" \
    --argjson rounds "$rounds" --arg duration "$duration" --arg warmup "$warmup" --argjson connections "$connections" \
    --argjson wrk_threads "$wrk_threads" --argjson max_other "$max_other" --argjson quiet_wait "$quiet_wait" \
    --argjson retries "$retries" --arg commit "$commit" --arg binary "$binary" --arg built "$built" --argjson ticks "$(getconf CLK_TCK)" --argjson sizes "$sizes" \
    '{date: $date, started: $started, cores: $cores, encore_event_loop_threads: $threads, nginx_workers: $threads,
      nginx_version: $nginx, wrk_version: $wrk, rounds: $rounds, duration: $duration, warmup: $warmup, connections: $connections,
      wrk_threads: $wrk_threads, max_other_cores: $max_other, quiet_wait_s: $quiet_wait, retries: $retries, tree_commit: $commit, encore_binary: $binary, encore_binary_built: $built, clock_ticks_per_s: $ticks, object_bytes: $sizes}' > meta.json

# 3. Interleaved rounds; Encore restarts to change its log level (same data dir, same token and URLs).
run_target() {
    local target=$1 round=$2 object url pid
    local -a options header
    for object in "${objects[@]}"; do
        if [ "$target" = nginx ]; then
            url="http://127.0.0.1:$ngport${nginx_url[$object]}"
            pid=$nginx_pid
            options=(--with-children)
        else
            url=${encore_url[$object]/@PORT@/$port}
            pid=$server_pid
            options=()
        fi
        mapfile -d '' -t header < <(headers "$object")
        measure "$url" --pid "$pid" "${options[@]}" "${header[@]}" --target "$target" --object "$object" --round "$round" \
            --threads "$wrk_threads" --connections "$connections" --duration "$duration" --warmup "$warmup" \
            --max-other "$max_other" --quiet-wait "$quiet_wait" --retries "$retries" >> runs.jsonl
        echo "  round $round $target $object: $(tail -n1 runs.jsonl | jq -r '"\(.rps | floor) req/s, \(.cpu_us_per_request) µs CPU/req, server busy \(.server_cores_busy) cores, others \(.other_cores_busy)"')" >&2
    done
}
restart_encore() {
    stop_encore
    ENCORE_LOG_LEVEL=$1 start_encore "$binary" "$work/data" server.log
}
: > runs.jsonl
for round in $(seq 1 "$rounds"); do
    run_target nginx "$round"
    for level in info warning; do
        restart_encore "$level"
        check_bytes
        run_target "encore-$level" "$round"
    done
done
stop_encore

# 4. The table and the JSON.
mkdir -p "$root/bench/results"
python3 "$root/bench/cpu_per_request.py" report runs.jsonl --meta meta.json --json "$root/bench/results/requests-$(date -u +%Y-%m-%d).json"

#!/usr/bin/env bash
# Caching-edge benchmark (not a test), on loopback only, stopping everything it starts:
#  1. seeds a fresh `encore serve` (release build, or $ENCORE_BINARY) with TRACKS tracks through the real
#     pipeline, and reports counted plays for them (first track most played) so `encore edge warm` has a
#     most-played list;
#  2. runs the listener simulator (bench/listeners.py) in ROUNDS interleaved rounds of three modes, same
#     listeners and seconds for each:
#       direct     media fetched from Encore's own media origin;
#       edge-cold  media through a fresh nginx edge (`encore edge-config`) with empty caches;
#       edge-warm  a fresh nginx edge, then `encore edge warm --top WARM_TOP`, then the listeners;
#  3. prints a Markdown table of the medians (min–max over the rounds) of stream start p50/p99, edge hit
#     ratio, origin requests/s (media answers that were not edge HITs plus token checks the edge sent to
#     Encore), and Encore's CPU (and nginx's) per second of wall time; writes every round and the summary
#     to bench/results/edge-<date>.json.
#
# One Encore serves every round. It runs with ENCORE_MEDIA_URL set to the edge's address, so the stream
# answers' `hls` URLs point at the edge; in direct rounds the simulator's --media-base puts Encore's own
# address in their place (same tokens, same keys: Encore's media origin is what the edge proxies to, and it
# does not look at the host). That keeps one server process, one data dir and one warm-up history for all
# modes instead of restarting Encore between modes; the script checks up front that both addresses answer
# with the same bytes. The API (stream grants, login) always goes to Encore directly.
#
# Settings (flags or environment): --listeners/LISTENERS (200), --seconds/SECONDS_RUN (30),
# --rounds/ROUNDS (3), --ramp/RAMP (10: seconds over which listeners join), --tracks/TRACKS (6),
# --track-seconds/TRACK_SECONDS (60), --warm-top/WARM_TOP (all tracks).
# ENCORE_BINARY=path skips the release build and uses that binary (a debug build's latencies mean little).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
listeners=${LISTENERS:-200}
seconds=${SECONDS_RUN:-30}
rounds=${ROUNDS:-3}
ramp=${RAMP:-10}
track_count=${TRACKS:-6}
track_seconds=${TRACK_SECONDS:-60}
warm_top=${WARM_TOP:-}
while [ $# -gt 0 ]; do
    case $1 in -h | --help) ;; *) [ $# -ge 2 ] || { echo "$1 needs a value" >&2; exit 2; } ;; esac
    case $1 in
        --listeners) listeners=$2 ;;
        --seconds) seconds=$2 ;;
        --rounds) rounds=$2 ;;
        --ramp) ramp=$2 ;;
        --tracks) track_count=$2 ;;
        --track-seconds) track_seconds=$2 ;;
        --warm-top) warm_top=$2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift 2
done
warm_top=${warm_top:-$track_count}
for n in "$listeners" "$seconds" "$rounds" "$track_count" "$track_seconds" "$warm_top"; do
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] || { echo "settings must be positive integers, not '$n'" >&2; exit 2; }
done
[[ $ramp =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "--ramp must be a number of seconds, not '$ramp'" >&2; exit 2; }

for tool in ffmpeg curl jq bc; do command -v "$tool" >/dev/null || { scripts/install-deps; break; }; done
command -v nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
nginx -V 2>&1 | grep -q -- --with-http_auth_request_module || { echo "this nginx has no auth_request module (Debian's nginx or nginx-light has)" >&2; exit 1; }
python3 -c "import aiohttp" 2>/dev/null || python3 -m pip install -q aiohttp
if [ -n "${ENCORE_BINARY:-}" ]; then
    binary=$ENCORE_BINARY
    [ -x "$binary" ] || { echo "ENCORE_BINARY=$binary is not an executable" >&2; exit 1; }
    case $binary in /*) ;; *) binary=$root/$binary ;; esac
else
    swift build -c release --product encore >/dev/null
    binary=$root/.build/release/encore
fi
case $binary in */debug/*) build="debug build: latencies mean little" ;; */release/*) build="release build" ;; *) build=$binary ;; esac

source scripts/lib/encore-server.sh
work=$(mktemp -d)
edge_pid=""
stop_edge() {
    if [ -n "$edge_pid" ]; then
        kill "$edge_pid" 2>/dev/null && wait "$edge_pid" 2>/dev/null || true
        edge_pid=""
        # Whatever nginx complained about (warn and up), kept across the fresh edges for the end report.
        cat "$work/edge/stderr.log" "$work/edge/error.log" >> "$work/edge-errors.log" 2>/dev/null || true
    fi
}
cleanup() {
    stop_edge
    stop_encore
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"
ulimit -n 65536 2>/dev/null || true

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
edge_port=$(free_port)
edge=http://127.0.0.1:$edge_port
ENCORE_LOG_LEVEL=warning ENCORE_MEDIA_URL=$edge start_encore "$binary" "$work/data" server.log
base=http://127.0.0.1:$port
api=$base/api/v1
[ "$edge_port" != "$port" ] || { echo "Encore took the edge's port" >&2; exit 1; }

# ---------------------------------------------------------------- seed: tracks through the pipeline, plays
echo "seeding $track_count tracks of $track_seconds s ..." >&2
seed_artist "$api"
: > tracks.txt
for n in $(seq 1 "$track_count"); do
    bench_audio "t$n.flac" "$track_seconds" "$n"
    # Upload URLs are media URLs too (on the edge's address, not started yet): upload to Encore itself.
    upload_track "$api" "t$n.flac" "Track $n" "$base" >> tracks.txt
    rm -f "t$n.flac"
done
for track in $(cat tracks.txt); do
    wait_ready "$api" "$track" || { tail -n 20 server.log >&2; exit 1; }
done
# Counted plays (≥ 30 s heard, or the whole of a shorter track): the simulator's Zipf law picks the first
# track most, so it gets the most plays here too, and `edge warm --top K` warms what listeners play most.
ms_played=$((track_seconds >= 30 ? 31000 : track_seconds * 1000))
rank=0
for track in $(cat tracks.txt); do
    rank=$((rank + 1))
    for _ in $(seq 1 $((track_count - rank + 1))); do
        play_id=$(cat /proc/sys/kernel/random/uuid)
        curl -sf -o /dev/null "$api/plays" -H "$auth" -H 'Content-Type: application/json' \
            -d "{\"playId\":\"$play_id\",\"trackId\":\"$track\",\"msPlayed\":$ms_played}" \
            || { echo "POST /plays failed for $track" >&2; exit 1; }
    done
done

# ---------------------------------------------------------------- the edge
# A fresh nginx with empty caches (its own prefix dir) every time it is started.
start_edge() {
    stop_edge
    rm -rf "$work/edge"
    mkdir -p "$work/edge/cache"
    "$binary" edge-config --listen "127.0.0.1:$edge_port" --origin "$base" --cache-dir "$work/edge/cache" \
        --user "$(id -un)" --workers 1 > "$work/edge/nginx.conf"
    nginx -p "$work/edge" -c "$work/edge/nginx.conf" -g 'daemon off;' > "$work/edge/stderr.log" 2>&1 &
    edge_pid=$!
    for _ in $(seq 1 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$edge/api/v1/tracks/$(head -n1 tracks.txt)" -H "$auth")" = 200 ] && return 0
        kill -0 "$edge_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "the edge did not start:" >&2
    cat "$work/edge/stderr.log" "$work/edge/error.log" >&2 2>/dev/null || true
    exit 1
}

# Both ways of fetching media must give the same bytes, or the comparison means nothing.
first=$(head -n1 tracks.txt)
hls=$(curl -sf "$api/tracks/$first/stream" -H "$auth" | jq -r .hls)
case $hls in "$edge"/media/*) ;; *) echo "Encore did not hand out edge URLs (ENCORE_MEDIA_URL): $hls" >&2; exit 1 ;; esac
start_edge
curl -sf "$hls" -o via-edge.m3u8 || { echo "the edge did not serve $hls" >&2; exit 1; }
curl -sf "$base${hls#"$edge"}" -o direct.m3u8 || { echo "Encore did not serve its own media URL" >&2; exit 1; }
cmp -s via-edge.m3u8 direct.m3u8 || { echo "edge and Encore answered with different bytes" >&2; exit 1; }
stop_edge

# ---------------------------------------------------------------- rounds
clk_tck=$(getconf CLK_TCK)
# utime + stime of the given processes, in clock ticks (0 for one that is gone).
cpu_ticks() {
    local total=0 pid t
    for pid in "$@"; do
        t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null) || t=0
        total=$((total + ${t:-0}))
    done
    echo "$total"
}
edge_pids() { [ -n "$edge_pid" ] && echo "$edge_pid" $(pgrep -P "$edge_pid") || true; }

: > rounds.jsonl
run_round() {
    local mode=$1 round=$2 media_args=() warm_note="" pids encore_before edge_before began ended report
    case $mode in
        direct) stop_edge; media_args=(--media-base "$base") ;;
        edge-cold) start_edge ;;
        edge-warm)
            start_edge
            warm_note=$("$binary" edge warm --data-dir "$work/data" --edge "$edge" --top "$warm_top" 2>&1 | tail -n 1)
            echo "  edge warm: $warm_note" >&2
            ;;
    esac
    pids=$(edge_pids)
    encore_before=$(cpu_ticks "$server_pid")
    edge_before=$(cpu_ticks $pids)
    began=$(date +%s.%N)
    report=$(python3 "$root/bench/listeners.py" "$base" tracks.txt --listeners "$listeners" --seconds "$seconds" \
        --ramp "$ramp" --server-pid "$server_pid" "${media_args[@]}")
    ended=$(date +%s.%N)
    local encore_ms edge_ms wall
    wall=$(echo "$ended - $began" | bc -l)
    encore_ms=$(echo "($(cpu_ticks "$server_pid") - $encore_before) * 1000 / $clk_tck / $wall" | bc -l)
    edge_ms=null
    [ -n "$pids" ] && edge_ms=$(echo "($(cpu_ticks $pids) - $edge_before) * 1000 / $clk_tck / $wall" | bc -l)
    kill -0 "$server_pid" 2>/dev/null || { echo "Encore died during the $mode round:" >&2; tail -n 20 server.log >&2; exit 1; }
    echo "$report" | jq -c --arg mode "$mode" --argjson round "$round" --argjson wall "$wall" \
        --argjson encore "$encore_ms" --argjson edge "$edge_ms" --arg warm "$warm_note" \
        '{mode: $mode, round: $round, wall_s: ($wall * 100 | round / 100),
          encore_cpu_ms_per_s: ($encore * 10 | round / 10),
          edge_cpu_ms_per_s: (if $edge == null then null else ($edge * 10 | round / 10) end),
          warm: (if $warm == "" then null else $warm end)} + .' >> rounds.jsonl
    tail -n 1 rounds.jsonl | jq -r '"  \(.mode) round \(.round): start p50 \(.start_p50_ms) ms, p99 \(.start_p99_ms) ms, hit ratio \(.edge_hit_ratio), origin \(.origin_requests_per_s)/s, Encore CPU \(.encore_cpu_ms_per_s) ms/s, errors \(.errors), stalls \(.stalls)"' >&2
}
modes=(direct edge-cold edge-warm)
for round in $(seq 1 "$rounds"); do
    echo "round $round of $rounds ($listeners listeners, $seconds s each) ..." >&2
    for mode in "${modes[@]}"; do run_round "$mode" "$round"; done
done
stop_edge
if [ -s edge-errors.log ]; then
    echo "nginx logged $(wc -l < edge-errors.log) line(s) of warnings or errors over all edges; the last 10:" >&2
    tail -n 10 edge-errors.log >&2
fi

# ---------------------------------------------------------------- summary
summary=$(jq -s '
    def median: sort | if length == 0 then null elif length % 2 == 1 then .[(length - 1) / 2]
                      else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    def spread(f): [.[] | f | select(. != null)] | {median: median, min: min, max: max};
    group_by(.mode) | map({key: .[0].mode, value: {
        rounds: length,
        start_p50_ms: spread(.start_p50_ms), start_p99_ms: spread(.start_p99_ms),
        edge_hit_ratio: spread(.edge_hit_ratio), origin_requests_per_s: spread(.origin_requests_per_s),
        encore_cpu_ms_per_s: spread(.encore_cpu_ms_per_s), edge_cpu_ms_per_s: spread(.edge_cpu_ms_per_s),
        media_requests: spread(.media_requests), errors: (map(.errors) | add), stalls: (map(.stalls) | add)}}) | from_entries' rounds.jsonl)
date=$(date -u +%Y-%m-%d)
mkdir -p "$root/bench/results"
result=$root/bench/results/edge-$date.json
jq -s --arg date "$date" --arg binary "$binary" --argjson cores "$(nproc)" --argjson summary "$summary" \
    --argjson listeners "$listeners" --argjson seconds "$seconds" --argjson rounds "$rounds" --argjson ramp "$ramp" \
    --argjson tracks "$track_count" --argjson track_seconds "$track_seconds" --argjson warm_top "$warm_top" \
    '{date: $date, cores: $cores, binary: $binary,
      settings: {listeners: $listeners, seconds: $seconds, rounds: $rounds, ramp: $ramp, tracks: $tracks,
                 track_seconds: $track_seconds, warm_top: $warm_top},
      summary: $summary, rounds: .}' rounds.jsonl > "$result"

# "median (min–max)"; `scale` multiplies first (hit ratio as a percentage).
cell() {
    echo "$summary" | jq -r --arg mode "$1" --arg field "$2" --argjson scale "${3:-1}" --argjson digits "${4:-2}" '
        def fmt: if . == null then "–" else (. * $scale * pow(10; $digits) | round) / pow(10; $digits) | tostring end;
        .[$mode][$field] as $s
        | if $s.median == null then "–"
          elif $s.min == $s.max then ($s.median | fmt)
          else "\($s.median | fmt) (\($s.min | fmt)–\($s.max | fmt))" end'
}
{
    printf 'Caching edge, %s, %s cores, loopback (%s listeners for %s s per round, %s interleaved rounds per mode; %s tracks of %s s; warm: top %s; median (min–max) over rounds; %s)\n\n' \
        "$date" "$(nproc)" "$listeners" "$seconds" "$rounds" "$track_count" "$track_seconds" "$warm_top" "$build"
    printf '| mode | stream start p50 ms | stream start p99 ms | edge hit ratio %% | origin requests/s | Encore CPU ms/s | edge CPU ms/s | media requests | errors / stalls |\n'
    printf '|---|---|---|---|---|---|---|---|---|\n'
    for mode in "${modes[@]}"; do
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n' "$mode" \
            "$(cell "$mode" start_p50_ms)" "$(cell "$mode" start_p99_ms)" "$(cell "$mode" edge_hit_ratio 100 1)" \
            "$(cell "$mode" origin_requests_per_s 1 1)" "$(cell "$mode" encore_cpu_ms_per_s 1 0)" "$(cell "$mode" edge_cpu_ms_per_s 1 0)" \
            "$(cell "$mode" media_requests 1 0)" \
            "$(echo "$summary" | jq -r --arg m "$mode" '.[$m].errors')" "$(echo "$summary" | jq -r --arg m "$mode" '.[$m].stalls')"
    done
    printf '\nOrigin requests: media answers that were not edge HITs, plus token checks the edge sent to Encore. CPU: ms of CPU per second of wall time. JSON: %s\n' "bench/results/edge-$date.json"
}

#!/usr/bin/env bash
# Load and latency benchmark (not a test), on loopback only, stopping everything it starts:
#  1. seeds a throwaway `encore serve` (release build) with 4 tracks of 150 s through the real pipeline
#     (ffmpeg), then stops it;
#  2. for each level of LEVELS (default "1000 5000 10000" listeners) starts a fresh `encore serve` on that
#     same data dir (so each level's RSS and CPU are its own, without reseeding) and runs the listener
#     simulator (bench/listeners.py) against it: the listeners share ACCOUNTS accounts (default 200)
#     signed in before they start, join evenly over RAMP s (default 60), then after SETTLE s (default 10)
#     a steady window of SECONDS_RUN s (default 300) is measured; they play HLS at real pace with ABR
#     switching, one keep-alive connection each, spread over PROCESSES client processes (default 0: one
#     per 3,500 listeners) running LOOP (asyncio, the default, or uvloop: about 10 % less client CPU);
#  3. prints one Markdown table, a row per level (plays, segments, errors, stalls, stream start and
#     segment latency, server CPU (also per 1,000 listeners), server RSS over the window and its slope,
#     open fds, client CPU and the client's own timer lag), and the goals at 10,000 listeners; writes it to
#     bench/results/load.md and every level's full report to bench/results/load-DATE.json.
# Request rates and CPU per request against nginx serving the same bytes are bench/requests.sh's
# (`make bench` runs both).
# ENCORE_BINARY=path uses that binary instead of running `swift build -c release --product encore`.
# MAX_CONNECTIONS=n sets the server's ENCORE_MAX_CONNECTIONS (default: the server's own, 10000).
# SEED_CACHE=dir keeps a copy of the seeded data dir there and reuses it when present (seeding takes minutes
# of ffmpeg; the copy must come from the same binary's schema).
# The open-file limit is raised to the hard limit (raised first when allowed) for the server and clients.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
levels=${LEVELS:-1000 5000 10000}
seconds=${SECONDS_RUN:-300}
ramp=${RAMP:-60}
settle=${SETTLE:-10}
accounts=${ACCOUNTS:-200}
processes=${PROCESSES:-0}
loop=${LOOP:-asyncio}
max_connections=${MAX_CONNECTIONS:-}
seed_cache=${SEED_CACHE:-}
case $seed_cache in "" | /*) ;; *) seed_cache=$root/$seed_cache ;; esac
for n in $levels "$seconds" "$accounts"; do
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] || { echo "LEVELS, SECONDS_RUN and ACCOUNTS must be positive integers, not '$n'" >&2; exit 2; }
done
for n in "$ramp" "$settle"; do
    [[ $n =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "RAMP and SETTLE must be seconds, not '$n'" >&2; exit 2; }
done
[[ $processes =~ ^[0-9]+$ ]] || { echo "PROCESSES must be a number (0: automatic), not '$processes'" >&2; exit 2; }
case $loop in asyncio) ;; uvloop) python3 -c "import uvloop" 2>/dev/null || python3 -m pip install -q uvloop ;; *) echo "LOOP is asyncio or uvloop" >&2; exit 2 ;; esac
[ -z "$max_connections" ] || [[ $max_connections =~ ^[0-9]+$ ]] || { echo "MAX_CONNECTIONS must be a number" >&2; exit 2; }

scripts/install-deps
python3 -c "import aiohttp" 2>/dev/null || python3 -m pip install -q aiohttp
if [ -n "${ENCORE_BINARY:-}" ]; then
    binary=$ENCORE_BINARY
    [ -x "$binary" ] || { echo "ENCORE_BINARY=$binary is not an executable" >&2; exit 1; }
    case $binary in /*) ;; *) binary=$root/$binary ;; esac
else
    swift build -c release --product encore >/dev/null
    binary=$root/.build/release/encore
fi

# Every listener holds a socket in the server and one in the client: raise the open-file limit (inherited
# by the server and the simulator) as far as this shell may.
ulimit -Hn 1048576 2>/dev/null || true
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard"
most=$(printf '%s\n' $levels | sort -n | tail -n1)
if [ "$(ulimit -n)" -lt $((most + 1000)) ]; then
    echo "warning: open files limited to $(ulimit -n) (hard limit); $most listeners need more than $((most + 1000)) in the server" >&2
fi

source scripts/lib/encore-server.sh
work=$(mktemp -d)
cleanup() {
    stop_encore
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"

# No per-request access log (bench/requests.sh measures what the default, info, costs); warnings still go to the log.
serve() {
    local log=$1
    if [ -n "$max_connections" ]; then
        ENCORE_MAX_CONNECTIONS=$max_connections ENCORE_LOG_LEVEL=warning start_encore "$binary" "$work/data" "$log"
    else
        ENCORE_LOG_LEVEL=warning start_encore "$binary" "$work/data" "$log"
    fi
}

track_seconds=150
if [ -n "$seed_cache" ] && [ -s "$seed_cache/tracks.txt" ] && [ -d "$seed_cache/data" ]; then
    echo "reusing the seeded data dir in $seed_cache (SEED_CACHE)" >&2
    cp -a "$seed_cache/data" "$work/data"
    cp "$seed_cache/tracks.txt" tracks.txt
else
    echo "seeding 4 tracks of $track_seconds s through the pipeline ..." >&2
    serve seed.log
    api=http://127.0.0.1:$port/api/v1
    seed_artist "$api"
    : > tracks.txt
    for n in 1 2 3 4; do
        bench_audio "t$n.flac" "$track_seconds" "$n"
        upload_track "$api" "t$n.flac" "Track $n" >> tracks.txt
        rm -f "t$n.flac"
    done
    for track in $(cat tracks.txt); do wait_ready "$api" "$track" || { tail -n 20 seed.log >&2; exit 1; }; done
    stop_encore
    if [ -n "$seed_cache" ]; then
        rm -rf "$seed_cache" && mkdir -p "$seed_cache"
        cp -a "$work/data" "$seed_cache/data"
        cp tracks.txt "$seed_cache/tracks.txt"
    fi
fi

: > levels.jsonl
for listeners in $levels; do
    serve "server-$listeners.log"
    base=http://127.0.0.1:$port
    echo "level $listeners: ramp $ramp s, settle $settle s, steady $seconds s (server pid $server_pid, fd limit $(ulimit -n)) ..." >&2
    report=$(python3 "$root/bench/listeners.py" "$base" tracks.txt --listeners "$listeners" --steady "$seconds" \
        --ramp "$ramp" --settle "$settle" --accounts "$accounts" --processes "$processes" --loop "$loop" \
        --server-pid "$server_pid")
    alive=true
    kill -0 "$server_pid" 2>/dev/null || alive=false
    # What the server logged (warning and up), bar its start-up banner.
    log_lines=$(grep -vc '^encore listening on' "server-$listeners.log" || true)
    tail_json=$({ grep -v '^encore listening on' "server-$listeners.log" || true; } | tail -n 10 | jq -R . | jq -s .)
    echo "$report" | jq -c --argjson alive "$alive" --argjson lines "${log_lines:-0}" \
        --argjson tail "$tail_json" --arg max "${max_connections:-10000 (default)}" \
        '. + {server_alive_after: $alive, server_log_lines: $lines, server_log_tail: $tail, max_connections: $max}' >> levels.jsonl
    tail -n 1 levels.jsonl | jq -r '"  \(.listeners) listeners: plays \(.steady.plays), errors \(.errors), stalls \(.stalls), start p99 \(.steady.start_p99_ms) ms, server CPU \(.server.cpu_cores_steady) cores, RSS \(.server.rss_steady_start_mb)→\(.server.rss_steady_end_mb) MB, client CPU \(.client.cpu_cores_steady) cores, client lag p99 \(.steady.client_lag.p99_ms) ms"' >&2
    $alive || { echo "the server died at $listeners listeners:" >&2; tail -n 20 "server-$listeners.log" >&2; }
    stop_encore
done

date=$(date -u +%F)
mkdir -p "$root/bench/results"
result=bench/results/load-$date.json
client="Python $(python3 -c 'import platform; print(platform.python_version())') $loop + aiohttp $(python3 -c 'import aiohttp; print(aiohttp.__version__)'), forked worker processes"
case $binary in */debug/*) server="debug build (latencies mean little)" ;; *) server="release build" ;; esac
jq -s --arg date "$date" --argjson cores "$(nproc)" --arg binary "$binary" --arg json "$result" --arg client "$client" \
    --arg server "fresh \`encore serve\` per level, $server" --argjson ramp "$ramp" --argjson settle "$settle" \
    --argjson steady "$seconds" --argjson accounts "$accounts" --argjson track_seconds "$track_seconds" \
    --arg max "${max_connections:-10000 (default)}" --argjson fd "$(ulimit -n)" \
    '{date: $date, cores: $cores, binary: $binary, json: $json,
      settings: {server: $server, client: $client, tracks: 4, track_seconds: $track_seconds, ramp_s: $ramp,
                 settle_s: $settle, steady_s: $steady, accounts: $accounts, sample_every_s: 2,
                 max_connections: $max, open_files_limit: $fd},
      levels: .}' levels.jsonl > "$root/$result"
python3 "$root/bench/listeners_report.py" "$root/$result" | tee "$root/bench/results/load.md"

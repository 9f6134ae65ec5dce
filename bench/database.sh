#!/usr/bin/env bash
# Database benchmark (not a test), on loopback only, stopping everything it starts: the metadata read path
# and search on SQLite and on PostgreSQL over the same catalog in the same run, and reads/s through HAProxy
# with one and with two API instances.
#  1. generates TRACKS tracks with bench/make_catalog.py and, in ROUNDS interleaved rounds, imports the same
#     file with `encore catalog import` into a fresh SQLite data dir and into a fresh database of a
#     throw-away PostgreSQL (Tests/python/postgres.py; fsync off, as for the tests): tracks/s from the
#     import's own line, the importer's CPU and PostgreSQL's. The last round's databases are kept; the
#     PostgreSQL one gets VACUUM ANALYZE and a CHECKPOINT (what autovacuum would soon do anyway);
#  2. a listener registers on each; IDS tracks and IDS albums spread over the catalog's natural order
#     (artist, album, track number) are picked from each database, and the script checks that both lists
#     name the same tracks and albums; a search mix of QUERIES queries is drawn from the catalog (exact
#     names, prefixes, one typo, title + artist; form-encoded with `+`), and every query's ranked answer is
#     compared between the two engines (reported, not required);
#  3. ROUNDS interleaved rounds; in each, for each request and each database (SQLite, then PostgreSQL), a
#     fresh `encore serve` (ENCORE_LOG_LEVEL=warning, ENCORE_WORKERS=0, ENCORE_BCRYPT_COST=4, one server
#     at a time) answers a WARMUP and a DURATION wrk run (wrk -tWRK_THREADS -cCONNECTIONS, a Lua script
#     rotating over the ids or queries):
#       track         GET /api/v1/tracks/{id}           ENCORE_READ_CACHE_MS=0: every read reaches the database
#       album         GET /api/v1/albums/{id}/tracks    ENCORE_READ_CACHE_MS=0
#       search        GET /api/v1/search?q=…            ENCORE_READ_CACHE_MS=0
#       track-cached  GET /api/v1/tracks/{id}           the default read cache
#     CPU per request is read around each window from /proc: Encore's process and, on PostgreSQL, every
#     process of the PostgreSQL server (the postmaster and its backends, alive or reaped during the window),
#     so PostgreSQL's figure includes the database's work. Ratios are PostgreSQL ÷ SQLite of the same round.
#     Quiet-machine waiting and retries as in bench/requests.sh (bench/cpu_per_request.py); any socket
#     error or non-2xx answer aborts;
#  4. scale-out: two `encore serve --role api` instances on the PostgreSQL database (same ENCORE_SECRET,
#     ENCORE_MEDIA_URL the balancer's; with --replica, reads from a streaming replica), behind HAProxy
#     (nbthread 1, balance roundrobin) configured with the first instance only or with both, in ROUNDS
#     interleaved rounds: GET /api/v1/tracks/{id} req/s, CPU per request of the instances, HAProxy and
#     PostgreSQL, each one's cores busy and the machine's busy share (/proc/stat), which says what is
#     saturated;
#  5. a separate pass with log_min_duration_statement = 0 on the throw-away server lists the statements
#     behind each request and their times (not measured windows);
#  6. prints Markdown tables of medians (min–max) and writes every run to bench/results/database-DATE.json.
#
# Usage: bench/database.sh [--tracks 20000] [--rounds 3] [--duration 5s] [--warmup 1s] [--connections 64]
#            [--threads 1] [--ids 1000] [--queries 500] [--measures track,album,search,track-cached]
#            [--scale-cache-ms 0] [--replica] [--no-scale] [--no-statements]
#            [--max-other 0.25] [--quiet-wait 60] [--retries 2]
# (or the environment: TRACKS, ROUNDS, DURATION, WARMUP, CONNECTIONS, WRK_THREADS, IDS, QUERIES, MEASURES,
# SCALE_READ_CACHE_MS, REPLICA=1, MAX_OTHER, QUIET_WAIT, RETRIES).
# ENCORE_BINARY=path uses that binary instead of running `swift build -c release --product encore`; the
# commit reported is that of the git tree the binary sits in (PATH/.build/…/encore -> git -C PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started_at=$(date +%s)
tracks=${TRACKS:-20000}
rounds=${ROUNDS:-3}
duration=${DURATION:-5s}
warmup=${WARMUP:-1s}
connections=${CONNECTIONS:-64}
wrk_threads=${WRK_THREADS:-1}
id_count=${IDS:-1000}
query_count=${QUERIES:-500}
measures=${MEASURES:-track,album,search,track-cached}
scale_cache=${SCALE_READ_CACHE_MS:-0}
replica=${REPLICA:-0}
scale=1
statements=1
max_other=${MAX_OTHER:-0.25}
quiet_wait=${QUIET_WAIT:-60}
retries=${RETRIES:-2}
while [ $# -gt 0 ]; do
    case $1 in
        --replica) replica=1; shift; continue ;;
        --no-scale) scale=0; shift; continue ;;
        --no-statements) statements=0; shift; continue ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    esac
    [ $# -ge 2 ] || { echo "$1 needs a value (see --help)" >&2; exit 2; }
    case $1 in
        --tracks) tracks=$2 ;;
        --rounds) rounds=$2 ;;
        --duration) duration=$2 ;;
        --warmup) warmup=$2 ;;
        --connections) connections=$2 ;;
        --threads) wrk_threads=$2 ;;
        --ids) id_count=$2 ;;
        --queries) query_count=$2 ;;
        --measures) measures=$2 ;;
        --scale-cache-ms) scale_cache=$2 ;;
        --max-other) max_other=$2 ;;
        --quiet-wait) quiet_wait=$2 ;;
        --retries) retries=$2 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift 2
done
for n in "$tracks" "$rounds" "$connections" "$wrk_threads" "$id_count" "$query_count" "$retries" "$scale_cache"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "settings must be whole numbers, not '$n'" >&2; exit 2; }
done
[ "$rounds" -gt 0 ] && [ "$tracks" -ge 100 ] || { echo "--rounds must be at least 1 and --tracks at least 100" >&2; exit 2; }
IFS=, read -r -a measure_list <<< "$measures"
for m in "${measure_list[@]}"; do
    case $m in track | album | search | track-cached) ;; *) echo "unknown measure '$m' (track, album, search, track-cached)" >&2; exit 2 ;; esac
done

# Tools: wrk, HAProxy, the PostgreSQL server and psql from Debian, when missing.
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
for tool in curl jq sqlite3; do command -v $tool >/dev/null || need+=($tool); done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)

if [ -n "${ENCORE_BINARY:-}" ]; then
    binary=$ENCORE_BINARY
else
    swift build -c release --product encore >/dev/null
    binary=$root/.build/release/encore
fi
[ -x "$binary" ] || { echo "no Encore binary at $binary" >&2; exit 1; }
"$binary" migrate --help >/dev/null 2>&1 || { echo "$binary has no PostgreSQL support (no \`encore migrate\`)" >&2; exit 1; }
case $binary in
    /*/.build/*) tree=${binary%%/.build/*} ;;
    *) tree=$root ;;
esac
commit=$(git -C "$tree" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$tree" diff --quiet HEAD -- Sources 2>/dev/null || commit="$commit (Sources modified)"
case $binary in */.build/release/*) build=release ;; */.build/debug/*) build=debug ;; *) build=unknown ;; esac
built=$(date -u -r "$binary" +%Y-%m-%dT%H:%M:%SZ)

# Only the settings this script gives: none of the caller's ENCORE_* (a database URL would redirect a run).
for variable in $(compgen -e | grep '^ENCORE_' || true); do
    [ "$variable" = ENCORE_BINARY ] || unset "$variable"
done
export ENCORE_SECRET
ENCORE_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
export ENCORE_LOG_LEVEL=warning ENCORE_WORKERS=0

source scripts/lib/encore-server.sh
work=$(mktemp -d)
# The PostgreSQL servers run as the `postgres` user (postgres.py), which must reach $work/pg.
chmod 755 "$work"
pg_dir=$work/pg
haproxy_pid=""
declare -A api_pid=()
cleanup() {
    stop_encore
    if [ -n "$haproxy_pid" ]; then kill "$haproxy_pid" 2>/dev/null && wait "$haproxy_pid" 2>/dev/null || true; fi
    for name in "${!api_pid[@]}"; do kill "${api_pid[$name]}" 2>/dev/null && wait "${api_pid[$name]}" 2>/dev/null || true; done
    [ -f "$pg_dir/state.json" ] && python3 "$root/Tests/python/postgres.py" stop --dir "$pg_dir" || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"
ulimit -n 65536 2>/dev/null || true
helper() { python3 "$root/bench/database.py" "$@"; }
quiet=(--max-other "$max_other" --quiet-wait "$quiet_wait")
say() { echo "$(date -u +%H:%M:%S) $*" >&2; }

# 1. The catalog, PostgreSQL, and the imports.
say "catalog: $tracks tracks"
python3 "$root/bench/make_catalog.py" "$tracks" catalog.jsonl make-catalog-queries.txt
queries_made=$(helper queries catalog.jsonl search.paths --count "$query_count")
replica_args=()
[ "$replica" = 1 ] && replica_args=(--replicas 1)
python3 "$root/Tests/python/postgres.py" start --dir "$pg_dir" "${replica_args[@]}" > pg.json
pg_url=$(jq -r .url pg.json)
pg_port=$(jq -r .port pg.json)
pg_pids=$(jq -r '.pids | map(tostring) | join(",")' pg.json)
pg_log=$(jq -r .log pg.json)
replica_url=$(jq -r '.replicas[0].url // ""' pg.json)
admin_url="postgres://postgres@127.0.0.1:$pg_port/postgres"
pg_version=$(psql -X -At "$pg_url" -c 'SHOW server_version' | awk '{print $1}')
psql_do() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

: > runs.jsonl
for round in $(seq 1 "$rounds"); do
    rm -rf sqlite pg-import
    helper import --label sqlite --round "$round" "${quiet[@]}" -- "$binary" catalog import catalog.jsonl --data-dir sqlite >> runs.jsonl
    say "  import round $round sqlite: $(tail -n1 runs.jsonl | jq -r .line)"
    psql_do "$admin_url" -c 'DROP DATABASE IF EXISTS encore' -c 'CREATE DATABASE encore'
    ENCORE_DATABASE_URL=$pg_url helper import --label postgres --round "$round" --group "postgres=$pg_pids" "${quiet[@]}" \
        -- "$binary" catalog import catalog.jsonl --data-dir pg-import >> runs.jsonl
    say "  import round $round postgres: $(tail -n1 runs.jsonl | jq -r .line)"
done
psql_do "$pg_url" -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
albums=$(sqlite3 sqlite/encore.sqlite 'SELECT count(*) FROM album')
artists=$(sqlite3 sqlite/encore.sqlite 'SELECT count(*) FROM artist')
[ "$(psql_do "$pg_url" -c 'SELECT count(*) FROM album')" = "$albums" ] && [ "$(psql_do "$pg_url" -c 'SELECT count(*) FROM artist')" = "$artists" ] \
    && [ "$(psql_do "$pg_url" -c 'SELECT count(*) FROM track')" = "$(sqlite3 sqlite/encore.sqlite 'SELECT count(*) FROM track')" ] \
    || { echo "the two databases do not hold the same numbers of tracks, albums and artists" >&2; exit 1; }

# 2. One server at a time: SQLite's data dir, or PostgreSQL's (its data dir holds only work files).
declare -A data_dir=([sqlite]=$work/sqlite [postgres]=$work/pg-import) token=()
serve() { # serve BACKEND CACHE_MS|default: stops the running server, starts one; sets base
    local backend=$1 cache=$2
    stop_encore
    [ "$cache" = default ] || export ENCORE_READ_CACHE_MS="$cache"
    [ "$backend" = sqlite ] || export ENCORE_DATABASE_URL="$pg_url"
    start_encore "$binary" "${data_dir[$backend]}" "server-$backend.log"
    unset ENCORE_DATABASE_URL ENCORE_READ_CACHE_MS
    base=http://127.0.0.1:$port
}
check_paths() { # every paths file's first and last path answer 200
    local backend=$1 file path
    for file in "track-$backend.paths" "album-$backend.paths" search.paths; do
        for path in "$(head -n1 "$file")" "$(tail -n1 "$file")"; do
            curl -sf -o /dev/null -H "Authorization: Bearer ${token[$backend]}" "$base$path" \
                || { echo "$backend: GET $path failed" >&2; tail -n 20 "server-$backend.log" >&2; exit 1; }
        done
    done
}
for backend in sqlite postgres; do
    serve "$backend" 0
    token[$backend]=$(curl -sf "$base/api/v1/auth/register" -H 'Content-Type: application/json' \
        -d '{"email":"listener@bench.invalid","password":"benchmark password","displayName":"Bench listener","role":"listener"}' | jq -r .token)
    [ -n "${token[$backend]}" ] && [ "${token[$backend]}" != null ] || { echo "$backend: registration failed" >&2; exit 1; }
    db_arg=(--sqlite sqlite/encore.sqlite)
    [ "$backend" = postgres ] && db_arg=(--postgres "$pg_url")
    for kind in track album; do
        helper pick "${db_arg[@]}" --kind "$kind" --count "$id_count" --out "$kind-$backend.ids" >/dev/null
    done
    sed 's|^|/api/v1/tracks/|' "track-$backend.ids" > "track-$backend.paths"
    sed 's|^|/api/v1/albums/|; s|$|/tracks|' "album-$backend.ids" > "album-$backend.paths"
    check_paths "$backend"
    helper fetch-search "$base" search.paths "search-$backend.json" -H "Authorization: Bearer ${token[$backend]}"
    stop_encore
done
for kind in track album; do
    cmp -s "$kind-sqlite.ids.keys" "$kind-postgres.ids.keys" || {
        echo "the ${kind}s picked from SQLite and from PostgreSQL differ:" >&2
        diff "$kind-sqlite.ids.keys" "$kind-postgres.ids.keys" | head -n 10 >&2
        exit 1
    }
done
search_check=$(helper compare-search search-sqlite.json search-postgres.json)
say "search answers SQLite vs PostgreSQL: $(jq -c 'del(.differing_examples)' <<< "$search_check")"
track_paths=$(wc -l < track-sqlite.paths)

# 3. Interleaved rounds, one server at a time.
measure() { # measure TARGET MEASURE ROUND URL PATHS TOKEN GROUPS...
    local target=$1 what=$2 round=$3 url=$4 paths=$5 bearer=$6
    shift 6
    local -a groups=()
    local group
    for group in "$@"; do groups+=(--group "$group"); done
    helper measure "$url" "$paths" --target "$target" --measure "$what" --round "$round" "${groups[@]}" \
        -H "Authorization: Bearer $bearer" --threads "$wrk_threads" --connections "$connections" \
        --duration "$duration" --warmup "$warmup" --retries "$retries" "${quiet[@]}" >> runs.jsonl
    say "  round $round $target $what: $(tail -n1 runs.jsonl | jq -r '"\(.rps | floor) req/s, server \(.server_cpu_us_per_request) µs CPU/req (" + ([.groups | to_entries[] | "\(.key) \(.value.cpu_us_per_request)"] | join(", ")) + "), machine \(.machine_busy_pct) % busy, others \(.other_cores_busy) cores"')"
}
for round in $(seq 1 "$rounds"); do
    for what in "${measure_list[@]}"; do
        for backend in sqlite postgres; do
            case $what in
                track) cache=0; paths=track-$backend.paths ;;
                track-cached) cache=default; paths=track-$backend.paths ;;
                album) cache=0; paths=album-$backend.paths ;;
                search) cache=0; paths=search.paths ;;
            esac
            serve "$backend" "$cache"
            check_paths "$backend"
            groups=("encore=$server_pid")
            [ "$backend" = postgres ] && groups+=("postgres=$pg_pids")
            measure "$backend" "$what" "$round" "$base" "$paths" "${token[$backend]}" "${groups[@]}"
            stop_encore
        done
    done
done

# 4. Scale-out: two API instances behind HAProxy, with one or both of them enabled.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
if [ "$scale" = 1 ]; then
    hport=$(free_port)
    balancer=http://127.0.0.1:$hport
    declare -A api_port=()
    for name in api1 api2; do
        mkdir -p "$name"
        export ENCORE_DATABASE_URL=$pg_url ENCORE_MEDIA_URL=$balancer ENCORE_PUBLIC_URL=$balancer ENCORE_READ_CACHE_MS=$scale_cache
        [ -n "$replica_url" ] && export ENCORE_DATABASE_READ_URL=$replica_url
        start_encore "$binary" "$work/$name" "server-$name.log" --role api
        unset ENCORE_DATABASE_URL ENCORE_MEDIA_URL ENCORE_PUBLIC_URL ENCORE_READ_CACHE_MS ENCORE_DATABASE_READ_URL
        api_pid[$name]=$server_pid
        api_port[$name]=$port
        server_pid=""
    done
    for n in 1 2; do
        {
            printf '%s\n' "# bench/database.sh: $n API instance(s) behind one HAProxy thread" "global" "    nbthread 1" "    maxconn 4000" \
                "defaults" "    mode http" "    timeout connect 2s" "    timeout client 30s" "    timeout server 30s" \
                "frontend encore" "    bind 127.0.0.1:$hport" "    default_backend api" "backend api" "    balance roundrobin"
            echo "    server api1 127.0.0.1:${api_port[api1]}"
            [ "$n" = 2 ] && echo "    server api2 127.0.0.1:${api_port[api2]}"
        } > "haproxy-$n.cfg"
        "$haproxy" -c -q -f "haproxy-$n.cfg" || { echo "haproxy rejects haproxy-$n.cfg" >&2; cat "haproxy-$n.cfg" >&2; exit 1; }
    done
    for round in $(seq 1 "$rounds"); do
        for n in 1 2; do
            "$haproxy" -f "haproxy-$n.cfg" -db > "haproxy-$n.log" 2>&1 &
            haproxy_pid=$!
            for _ in $(seq 1 100); do
                curl -sf -o /dev/null "$balancer/health" && break
                kill -0 "$haproxy_pid" 2>/dev/null || { cat "haproxy-$n.log" >&2; exit 1; }
                sleep 0.05
            done
            base=$balancer
            check_paths postgres
            measure "haproxy-$n" track "$round" "$balancer" track-postgres.paths "${token[postgres]}" \
                "encore=${api_pid[api1]},${api_pid[api2]}" "haproxy=$haproxy_pid" "postgres=$pg_pids"
            kill "$haproxy_pid" 2>/dev/null && wait "$haproxy_pid" 2>/dev/null || true
            haproxy_pid=""
        done
    done
    for name in api1 api2; do
        kill "${api_pid[$name]}" 2>/dev/null && wait "${api_pid[$name]}" 2>/dev/null || true
        unset "api_pid[$name]"
    done
fi

# 5. The statements behind each request, from PostgreSQL's log (not a measured window).
: > statements.jsonl
if [ "$statements" = 1 ]; then
    psql_do "$pg_url" -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c 'SELECT pg_reload_conf()' >/dev/null
    sleep 0.5
    serve postgres 0
    for what in track album search; do
        case $what in track) paths=track-postgres.paths ;; album) paths=album-postgres.paths ;; search) paths=search.paths ;; esac
        offset=$(stat -c %s "$pg_log")
        requests=$(helper measure "$base" "$paths" --target statements --measure "$what" --group "encore=$server_pid" \
            -H "Authorization: Bearer ${token[postgres]}" --threads 1 --connections 4 --duration 2s --warmup 0 --retries 0 \
            --max-other 100 --quiet-wait 0 | jq .requests)
        sleep 0.5
        helper pg-statements "$pg_log" --from "$offset" --measure "$what" --requests "$requests" >> statements.jsonl
    done
    stop_encore
    psql_do "$pg_url" -c "ALTER SYSTEM RESET log_min_duration_statement" -c 'SELECT pg_reload_conf()' >/dev/null
fi

# 6. The tables and the JSON.
runtime=$(( $(date +%s) - started_at ))
cpu_model=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)
jq -n --arg date "$(date -u +%Y-%m-%d)" --arg started "$(date -u -d "@$started_at" +%Y-%m-%dT%H:%M:%SZ)" --argjson runtime "$runtime" \
    --argjson cores "$(nproc)" --arg cpu_model "${cpu_model:-unknown}" --arg commit "$commit" --arg binary "$binary" --arg build "$build" \
    --arg built "$built" --argjson tracks "$tracks" --argjson albums "$albums" --argjson artists "$artists" \
    --argjson ids "$track_paths" --argjson queries "$queries_made" --arg pg "$pg_version" \
    --arg haproxy "$("$haproxy" -v | head -n1 | awk '{print $3}')" --arg wrk "$(wrk -v 2>&1 | head -n1 | awk '{print $2}')" \
    --argjson rounds "$rounds" --arg duration "$duration" --arg warmup "$warmup" --argjson connections "$connections" \
    --argjson wrk_threads "$wrk_threads" --argjson replica "$([ "$replica" = 1 ] && echo true || echo false)" \
    --argjson scale_cache "$scale_cache" --arg measures "$measures" --argjson search_check "$search_check" \
    --argjson max_other "$max_other" --argjson quiet_wait "$quiet_wait" --argjson retries "$retries" --argjson ticks "$(getconf CLK_TCK)" \
    '{date: $date, started: $started, runtime_s: $runtime, cores: $cores, cpu_model: $cpu_model, commit: $commit, encore_binary: $binary,
      build: $build, encore_binary_built: $built, tracks: $tracks, albums: $albums, artists: $artists, ids: $ids, queries: $queries,
      postgres_version: $pg, haproxy_version: $haproxy, wrk_version: $wrk, rounds: $rounds, duration: $duration, warmup: $warmup,
      connections: $connections, wrk_threads: $wrk_threads, replica: $replica, scale_read_cache_ms: $scale_cache, measures: $measures,
      read_cache_ms: "0 except track-cached (the default)", encore_log_level: "warning", encore_workers: 0,
      postgres_settings: "Tests/python/postgres.py: fsync, synchronous_commit and full_page_writes off, shared_buffers 32MB",
      search_check: $search_check, max_other_cores: $max_other, quiet_wait_s: $quiet_wait, retries: $retries, clock_ticks_per_s: $ticks}' > meta.json
mkdir -p "$root/bench/results"
result=bench/results/database-$(date -u +%Y-%m-%d).json
helper report runs.jsonl --meta meta.json --statements statements.jsonl --json "$root/$result" --json-label "$result"
say "done in ${runtime} s"

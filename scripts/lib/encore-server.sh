# Sourced by scripts that need a throwaway `encore serve`. Defines:
#   start_encore BINARY DATA_DIR LOG [extra serve args…]
# which starts the server on a free port (bcrypt cost 4: these servers hold no real accounts), waits
# (bounded) for its "listening" line and sets `server_pid` and `port`; and stop_encore, which stops it.
# The caller's EXIT trap should call stop_encore.

server_pid=""
port=""

start_encore() {
    local binary=$1 data=$2 log=$3
    shift 3
    ENCORE_BCRYPT_COST=4 "$binary" serve --port 0 --data-dir "$data" "$@" > "$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        port=$(sed -n 's/^encore listening on .*:\([0-9]*\), data in .*/\1/p' "$log" | head -n1)
        [ -n "$port" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "encore did not start:" >&2
    cat "$log" >&2
    return 1
}

stop_encore() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}

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

# Seeding a throwaway server through its API (needs curl and jq):
#   seed_artist API            registers an artist account with an artist and an album; sets `auth`
#                              (the Authorization header) and `album`
#   bench_audio FILE SECONDS N writes N's tone over pink noise as FLAC (noise keeps the encoders honest)
#   upload_track API FILE TITLE [BASE]
#                              uploads FILE through a pre-signed URL (sent to BASE instead of the URL's
#                              own host when given) and creates the track; prints its id
#   wait_ready API TRACK       waits (bounded, 10 min) until the track is ready; fails otherwise
seed_artist() {
    local api=$1 token artist
    token=$(curl -sf "$api/auth/register" -H 'Content-Type: application/json' \
        -d '{"email":"artist@bench.invalid","password":"benchmark password","displayName":"Bench","role":"artist"}' | jq -r .token)
    auth="Authorization: Bearer $token"
    artist=$(curl -sf "$api/artists" -H "$auth" -H 'Content-Type: application/json' -d '{"name":"Bench Artist"}' | jq -r .id)
    album=$(curl -sf "$api/albums" -H "$auth" -H 'Content-Type: application/json' -d "{\"artistId\":\"$artist\",\"title\":\"Bench Album\"}" | jq -r .id)
}

bench_audio() {
    local file=$1 seconds=$2 n=$3
    ffmpeg -nostdin -v error -y -f lavfi -i "sine=frequency=$((200 + n * 70)):duration=$seconds" \
        -f lavfi -i "anoisesrc=color=pink:amplitude=0.3:duration=$seconds:seed=$n" -filter_complex "amix=inputs=2:normalize=0" \
        -ac 2 -ar 44100 "$file"
}

upload_track() {
    local api=$1 file=$2 title=$3 base=${4:-} grant url
    grant=$(curl -sf "$api/tracks/upload-url" -H "$auth")
    url=$(echo "$grant" | jq -r .uploadUrl)
    [ -z "$base" ] || url="$base/media/${url#*/media/}"
    curl -sf -X PUT -H 'Expect:' --data-binary "@$file" "$url" >/dev/null
    curl -sf "$api/tracks" -H "$auth" -H 'Content-Type: application/json' \
        -d "{\"albumId\":\"$album\",\"title\":\"$title\",\"trackUrl\":$(echo "$grant" | jq .trackUrl)}" | jq -r .id
}

wait_ready() {
    local api=$1 track=$2 status=""
    for _ in $(seq 1 1200); do
        status=$(curl -sf "$api/tracks/$track" -H "$auth" | jq -r .status)
        [ "$status" = processing ] || break
        sleep 0.5
    done
    [ "$status" = ready ] || { echo "track $track did not become ready (status: $status)" >&2; return 1; }
}

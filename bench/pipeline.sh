#!/usr/bin/env bash
# Media pipeline benchmark (not a test): for a generated 5-minute stereo 44.1 kHz FLAC, prints
#   - the wall time of one plain, hand-written ffmpeg command producing the same ladder,
#   - Encore's pipeline wall time for the same file (probe + full decode check, fingerprint, the ladder,
#     packaging, storing), as the worker logs it, and the ratio of the two,
#   - the time from POST /tracks to `ready` as a client sees it.
# Uses the release build; loopback only; stops its server.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps
swift build -c release --product encore >/dev/null
binary=$root/.build/release/encore
runs=${RUNS:-3}

source scripts/lib/encore-server.sh
work=$(mktemp -d)
cleanup() {
    stop_encore
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# Music-like input: a chord over pink noise, so encoders work as hard as on real music.
ffmpeg -nostdin -v error -f lavfi -i "sine=frequency=220:duration=300" -f lavfi -i "sine=frequency=277:duration=300" \
    -f lavfi -i "anoisesrc=color=pink:amplitude=0.3:duration=300:seed=7" -filter_complex "amix=inputs=3:normalize=0" \
    -ac 2 -ar 44100 -sample_fmt s16 source.flac

now() { date +%s.%N; }

# The reference: what one would write by hand for the same outputs, in one ffmpeg run.
plain() {
    rm -rf plain && mkdir -p plain/stream plain/files
    ffmpeg -nostdin -v error -y -i source.flac -filter_complex \
        "[0:a]asplit=2[m][e];[m]ebur128=peak=true,anullsink;[e]aresample=48000,aformat=channel_layouts=stereo,asplit=12[a][b][c][d][f][g][h][i][j][k][l][n]" \
        -map "[a]" -map "[b]" -map "[c]" -c:a aac -b:a:0 96k -b:a:1 160k -b:a:2 256k \
        -f dash -seg_duration 6 -use_template 1 -use_timeline 0 -hls_playlist 1 plain/stream/manifest.mpd \
        -map "[d]" -c:a aac -b:a 96k plain/files/a96.m4a -map "[f]" -c:a aac -b:a 160k plain/files/a160.m4a \
        -map "[g]" -c:a aac -b:a 256k plain/files/a256.m4a \
        -map "[h]" -c:a libmp3lame -b:a 96k plain/files/m96.mp3 -map "[i]" -c:a libmp3lame -b:a 160k plain/files/m160.mp3 \
        -map "[j]" -c:a libmp3lame -b:a 320k plain/files/m320.mp3 \
        -map "[k]" -c:a libopus -vbr off -b:a 96k plain/files/o96.ogg -map "[l]" -c:a libopus -vbr off -b:a 160k plain/files/o160.ogg \
        -map "[n]" -c:a libopus -vbr off -b:a 320k plain/files/o320.ogg
}

start_encore "$binary" "$work/data" server.log --workers 1
api=http://127.0.0.1:$port/api/v1
seed_artist "$api"

plain_times=()
pipeline_times=()
ready_times=()
for run in $(seq 1 "$runs"); do
    start=$(now); plain; end=$(now)
    plain_times+=("$(echo "$end - $start" | bc -l)")

    grant=$(curl -sf "$api/tracks/upload-url" -H "$auth")
    curl -sf -X PUT -H 'Expect:' --data-binary @source.flac "$(echo "$grant" | jq -r .uploadUrl)" >/dev/null
    start=$(now)
    track=$(curl -sf "$api/tracks" -H "$auth" -H 'Content-Type: application/json' \
        -d "{\"albumId\":\"$album\",\"title\":\"Run $run\",\"trackUrl\":$(echo "$grant" | jq .trackUrl)}" | jq -r .id)
    while [ "$(curl -sf "$api/tracks/$track" -H "$auth" | jq -r .status)" = processing ]; do sleep 0.05; done
    end=$(now)
    ready_times+=("$(echo "$end - $start" | bc -l)")
    ms=$(sed -n "s/.*track $(echo "$track" | tr 'A-Z' 'a-z') ready in \([0-9]*\) ms.*/\1/p" server.log | tail -n1)
    pipeline_times+=("$(echo "$ms / 1000" | bc -l)")
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
p=$(median "${plain_times[@]}"); q=$(median "${pipeline_times[@]}"); r=$(median "${ready_times[@]}")
printf '\n5-minute stereo 44.1 kHz FLAC, %s runs, medians (%s, %s cores)\n' "$runs" "$(date -u +%Y-%m-%d)" "$(nproc)"
printf '| measure | seconds |\n|---|---|\n'
printf '| plain ffmpeg, same ladder in one command | %.2f |\n' "$p"
printf '| Encore pipeline (probe + decode check, fingerprint, ladder, packaging, store) | %.2f |\n' "$q"
printf '| ratio pipeline / plain ffmpeg | %.2f× |\n' "$(echo "$q / $p" | bc -l)"
printf '| POST /tracks → ready, as the client sees it | %.2f |\n' "$r"

#!/usr/bin/env bash
# Search benchmark (not a test): generates a catalog (default 1,000,000 tracks: 100k artists, 250k
# albums), imports it with `encore catalog import`, and prints import time, database size and query
# latency p50/p95/p99 for a fixed mix of exact, prefix, typo and multi-word queries (in-process, after a
# warm-up). Release build; writes only to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tracks=${TRACKS:-1000000}
scripts/install-deps
swift build -c release --product encore >/dev/null
binary=$root/.build/release/encore
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 bench/make_catalog.py "$tracks" "$work/catalog.jsonl" "$work/queries.txt"
import_line=$("$binary" catalog import "$work/catalog.jsonl" --data-dir "$work/data" 2>/dev/null | tail -n1)
size=$(du -sm "$work/data/encore.sqlite" | cut -f1)
latency=$("$binary" search bench --data-dir "$work/data" --queries "$work/queries.txt" --passes 3)

printf '\nSearch over %s tracks (%s, %s cores)\n' "$tracks" "$(date -u +%Y-%m-%d)" "$(nproc)"
printf '| measure | value |\n|---|---|\n'
printf '| import | %s |\n' "$import_line"
printf '| database size | %s MiB |\n' "$size"
printf '| query mix (exact, prefix, typo, multi-word) | %s |\n' "$latency"

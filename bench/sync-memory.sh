#!/usr/bin/env bash
# Peak resident memory of `ferry sync` deciding that N keys are unchanged (default 1,000,000),
# against `ferry serve` with both buckets pre-filled by the world file (no upload time).
# Usage: bench/sync-memory.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
N=${1:-1000000}
echo "== cargo build --release --bin ferry" >&2
cargo build --release --locked --bin ferry >&2
FERRY_BIN=${CARGO_TARGET_DIR:-target}/release/ferry
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
# The copy layout with N identical objects on both sides.
copy_world "$work/world.toml" 'source|dest' 'many/{n}' 64 "$N"
port=$(free_port)
"$FERRY_BIN" serve --world "$work/world.toml" --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
wait_port "$port" 120
copier_profiles "$work"
echo "== ferry sync of $N unchanged keys" >&2
AWS_CONFIG_FILE=$work/config AWS_SHARED_CREDENTIALS_FILE=$work/credentials \
/usr/bin/time -v "$FERRY_BIN" sync s3://ferry-source/many/ s3://ferry-dest/many/ \
    --source-profile a --source-role arn:aws:iam::111111111111:role/source-reader \
    --dest-profile b --dest-role arn:aws:iam::222222222222:role/dest-syncer \
    --source-endpoint "http://127.0.0.1:$port" --dest-endpoint "http://127.0.0.1:$port" \
    --quiet 2> "$work/time.txt" | tee "$work/out.txt"
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$work/time.txt"
rss_kib=$(awk '/Maximum resident set size/ {print $6}' "$work/time.txt")
echo "keys=$N peak_rss_mib=$((rss_kib / 1024))"

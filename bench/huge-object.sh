#!/usr/bin/env bash
# One object over S3's 5 GiB single-request limit, copied across accounts both ways:
# streamed between two identities (ranged GETs into UploadPart) and server-side
# (UploadPartCopy), against `ferry serve`, which refuses single PUTs and CopyObject sources
# over 5 GiB as S3 does. Each copy must be confirmed by the source's full-object checksum,
# and a sync afterwards must find nothing to do. Prints time and ferry's peak RSS.
#
#   bench/huge-object.sh              # 5 GiB + 1 MiB
#   SIZE=6442450944 bench/huge-object.sh
#
# Needs ~16 GiB of free memory: the emulator holds the source, the destination's parts and
# the assembled copy in memory at once (a fresh emulator for each path).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
SIZE=${SIZE:-$((5 * 1024 * 1024 * 1024 + 1024 * 1024))}
if [ -z "${FERRY_BIN:-}" ]; then
    echo "== cargo build --release --bin ferry" >&2
    cargo build --release --locked --bin ferry >&2
    FERRY_BIN=${CARGO_TARGET_DIR:-target}/release/ferry
fi
work=$(mktemp -d)
server=
trap 'if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
copy_world "$work/world.toml" 'source' 'huge/object.bin' "$SIZE"
port=$(free_port)
ep=http://127.0.0.1:$port

start_server() {
    echo "== ferry serve with a ${SIZE}-byte source object (generated, checksummed at start)" >&2
    "$FERRY_BIN" serve --world "$work/world.toml" --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
    server=$!
    wait_port "$port" 600
}

stop_server() {
    echo "   emulator peak RSS: $(awk '/^VmHWM:/ {print int($2 / 1024)}' "/proc/$server/status") MiB"
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=
}

copier_profiles "$work"

# ferry COMMAND DEST_ROLE DEST_PREFIX [ARGS...]: runs it with --json under /usr/bin/time and
# prints its summary line; fails unless it exits 0.
run() {
    local command=$1 role=$2 prefix=$3
    shift 3
    /usr/bin/time -f '%e %M' -o "$work/time.txt" "$FERRY_BIN" "$command" \
        s3://ferry-source/huge/ "s3://ferry-dest/$prefix" \
        --source-profile a --source-role arn:aws:iam::111111111111:role/source-reader \
        --dest-profile b --dest-role "arn:aws:iam::222222222222:role/$role" \
        --source-endpoint "$ep" --dest-endpoint "$ep" --json --quiet "$@" > "$work/out.jsonl"
    tail -1 "$work/out.jsonl"
}

# check SUMMARY_JSON NAME KEY=VALUE...: every field of the summary must equal its value.
check() {
    python3 - "$@" <<'PY'
import json, sys
s, name = json.loads(sys.argv[1]), sys.argv[2]
bad = [f"{k}: {s.get(k)!r} (want {v})" for k, v in (a.split("=", 1) for a in sys.argv[3:])
       if str(s.get(k)) != v]
if bad:
    sys.exit(f"!! {name}: " + "; ".join(bad))
print(f"{name}: {s['seconds']:.1f} s ({s['bytes'] / s['seconds'] / 1048576:.0f} MiB/s), "
      f"data path {s['data_path']}, verified by checksum {s['verified_by_checksum']}")
PY
}

for path in stream server-side; do
    role=dest-writer
    [ "$path" = server-side ] && role=dest-copier
    start_server
    echo "== ferry copy, $path (role $role)" >&2
    s=$(run copy "$role" "$path/" --mode "$path")
    check "$s" "copy $path" copied=1 "bytes=$SIZE" verified_by_checksum=1 data_path="$path" failed=[]
    read -r secs rss_kib < "$work/time.txt"
    echo "   wall ${secs} s, ferry peak RSS $((rss_kib / 1024)) MiB"
    echo "== ferry sync of the same (role dest-syncer): nothing to do" >&2
    s=$(run sync dest-syncer "$path/")
    check "$s" "sync $path" copied=0 skipped=1 failed=[]
    stop_server
done

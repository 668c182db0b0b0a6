# Shared by the bench/ scripts (sourced, not run).

# Builds the emulator_load bench in release and prints the path of its executable.
build_load_bin() {
    cargo bench --locked --bench emulator_load --no-run --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "emulator_load" and m.get("executable"):
        print(m["executable"])'
}

# Builds `ferry` and the emulator_load bench in release and sets FERRY_BIN and LOAD_BIN.
build_release() {
    echo "== cargo build --release --bin ferry" >&2
    cargo build --release --locked --bin ferry >&2
    echo "== cargo bench --bench emulator_load --no-run" >&2
    LOAD_BIN=$(build_load_bin)
    FERRY_BIN=${CARGO_TARGET_DIR:-target}/release/ferry
    [ -x "$FERRY_BIN" ] || { echo "no $FERRY_BIN" >&2; return 1; }
    [ -n "$LOAD_BIN" ] && [ -x "$LOAD_BIN" ] || { echo "emulator_load was not built" >&2; return 1; }
}

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits up to $2 seconds (default 30) for something to accept on 127.0.0.1:$1.
wait_port() {
    local port=$1 limit=${2:-30} i
    for ((i = 0; i < limit * 10; i++)); do
        if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$port after ${limit}s" >&2
    return 1
}

# VmRSS, VmHWM and VmSize of a process, in KiB: "RSS HWM SIZE".
mem_kib() {
    awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} /^VmSize:/ {v = $2} END {print r, h, v}' "/proc/$1/status"
}

# Account A's root key in the default world (src/emu/world.rs DEFAULT_ACCOUNTS).
ROOT_A_KEY=AKIAFERRYROOTA000001
ROOT_A_SECRET=ferryRootSecretKeyOfAccountA000000000001

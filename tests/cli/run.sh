#!/usr/bin/env bash
# Runs walkthrough scripts by hand, each against its own fresh `ferry serve`:
#
#   bash tests/cli/run.sh                      # all of them
#   bash tests/cli/run.sh seed003              # one (name with or without .sh)
#
# Uses target/debug/ferry (build it with `cargo build`; FERRY_BIN overrides) and the aws CLI
# of FERRY_AWS_CLI, else .venv/bin/aws (installed by `bash .ci/run`), else `aws` on PATH.
# `cargo test --test integration cli_walkthroughs` does the same from Rust.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

FERRY_BIN=${FERRY_BIN:-$ROOT/target/debug/ferry}
if [ -z "${FERRY_AWS_CLI:-}" ]; then
    if [ -x "$ROOT/.venv/bin/aws" ]; then FERRY_AWS_CLI=$ROOT/.venv/bin/aws; else FERRY_AWS_CLI=aws; fi
fi
export FERRY_AWS_CLI

if [ "$#" -eq 0 ]; then
    set -- seed000-option1 seed000-option2 seed001 seed002 seed003
fi

for name in "$@"; do
    name=${name%.sh}
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ferry-serve.XXXXXX")
    "$FERRY_BIN" serve --world "scenarios/$name.toml" --listen 127.0.0.1:0 \
        --credentials-out "$dir/credentials.json" >"$dir/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        [ -s "$dir/credentials.json" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -s "$dir/credentials.json" ]; then
        cat "$dir/serve.log" >&2
        kill "$pid" 2>/dev/null || true
        echo "ferry serve did not start for $name" >&2
        exit 1
    fi
    endpoint=$(sed -n 's/.*"endpoint": *"\([^"]*\)".*/\1/p' "$dir/credentials.json")
    rc=0
    FERRY_ENDPOINT=$endpoint bash "tests/cli/$name.sh" || rc=$?
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
    if [ "$rc" -ne 0 ]; then
        echo "tests/cli/$name.sh failed (exit $rc)" >&2
        exit "$rc"
    fi
done

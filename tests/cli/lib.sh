# shellcheck shell=bash disable=SC2034 # (variables here are used by the scripts that source it)
# Shared helpers of the aws CLI walkthrough scripts (tests/cli/seed*.sh); sourced, not run.
#
# The scripts start nothing: they talk to the `ferry serve` whose endpoint is in
# FERRY_ENDPOINT, with the aws CLI named by FERRY_AWS_CLI (default: `aws` on PATH). Every
# script works in a fresh temporary directory with its own AWS_CONFIG_FILE and
# AWS_SHARED_CREDENTIALS_FILE, so nothing of the caller's ~/.aws is read or written.

: "${FERRY_ENDPOINT:?set FERRY_ENDPOINT to a running ferry serve endpoint, e.g. http://127.0.0.1:4566}"

CLI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$CLI_DIR/../.." && pwd)
POLICIES=$ROOT/scenarios/policies

# The default world's accounts (src/emu/world.rs DEFAULT_ACCOUNTS, docs/WORLD.md).
A=111111111111
B=222222222222
C=333333333333
A_ROOT_KEY=AKIAFERRYROOTA000001
A_ROOT_SECRET=ferryRootSecretKeyOfAccountA000000000001
B_ROOT_KEY=AKIAFERRYROOTB000002
B_ROOT_SECRET=ferryRootSecretKeyOfAccountB000000000002
C_ROOT_KEY=AKIAFERRYROOTC000003
C_ROOT_SECRET=ferryRootSecretKeyOfAccountC000000000003
export A B C

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

# Keep the caller's AWS settings out; talk only to the emulator.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
    AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_REGION AWS_CA_BUNDLE AWS_ROLE_ARN \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_STS AWS_ENDPOINT_URL_IAM \
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS AWS_USE_FIPS_ENDPOINT AWS_USE_DUALSTACK_ENDPOINT \
    AWS_S3_US_EAST_1_REGIONAL_ENDPOINT AWS_STS_REGIONAL_ENDPOINTS
export AWS_CONFIG_FILE=$WORK/aws-config
export AWS_SHARED_CREDENTIALS_FILE=$WORK/aws-credentials
export AWS_ENDPOINT_URL=$FERRY_ENDPOINT
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_MAX_ATTEMPTS=1
export AWS_PAGER=
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"

# Progress goes to fd 3 (the script's stdout), so `$(expect_ok ...)` captures only the CLI's
# output.
exec 3>&1

# `aws` is the CLI named by FERRY_AWS_CLI, so the steps read like the walkthroughs.
aws() {
    command "${FERRY_AWS_CLI:-aws}" "$@"
}

# Checks are counted in files, since `$(expect_ok ...)` runs in a subshell.
: >"$WORK/.checks"
: >"$WORK/.skipped"
_count() {
    echo >>"$WORK/.checks"
}

# step TEXT: a heading naming the walkthrough step that follows.
step() {
    printf '\n== %s\n' "$*" >&3
}

# note TEXT: an explanatory line in the log.
note() {
    printf '   %s\n' "$*" >&3
}

_shown() {
    # The command as logged: long arguments (policy documents) shortened.
    local a out=""
    for a in "$@"; do
        if [ "${#a}" -gt 100 ]; then a="${a:0:60}..."; fi
        out+=" $a"
    done
    printf '%s' "${out# }"
}

# expect_ok CMD...: CMD must exit 0; its stdout is passed through (for capture).
expect_ok() {
    local rc=0
    "$@" >"$WORK/.out" 2>"$WORK/.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        {
            printf 'FAIL: expected success, got exit %s: %s\n' "$rc" "$(_shown "$@")"
            sed 's/^/    stderr: /' "$WORK/.err"
            sed 's/^/    stdout: /' "$WORK/.out"
        } >&2
        exit 1
    fi
    _count
    printf '   ok      %s\n' "$(_shown "$@")" >&3
    cat "$WORK/.out"
}

# expect_error CODE CMD...: CMD must fail and its stderr must contain `(CODE)`, as the aws CLI
# prints it: `An error occurred (AccessDenied) when calling the GetObject operation: ...`.
expect_error() {
    local code=$1 rc=0
    shift
    "$@" >"$WORK/.out" 2>"$WORK/.err" || rc=$?
    if [ "$rc" -eq 0 ]; then
        {
            printf 'FAIL: expected error (%s), but it succeeded: %s\n' "$code" "$(_shown "$@")"
            sed 's/^/    stdout: /' "$WORK/.out"
        } >&2
        exit 1
    fi
    if ! grep -qF "($code)" "$WORK/.err"; then
        {
            printf 'FAIL: expected error (%s), got exit %s: %s\n' "$code" "$rc" "$(_shown "$@")"
            sed 's/^/    stderr: /' "$WORK/.err"
        } >&2
        exit 1
    fi
    _count
    printf '   denied  %s\n           -> %s\n' "$(_shown "$@")" \
        "$(grep -F "($code)" "$WORK/.err" | head -n 1 | cut -c 1-160)" >&3
}

# assert_eq ACTUAL EXPECTED WHAT
assert_eq() {
    if [ "$1" != "$2" ]; then
        printf 'FAIL: %s: expected [%s], got [%s]\n' "$3" "$2" "$1" >&2
        exit 1
    fi
    _count
    printf '   ok      %s = %s\n' "$3" "$2" >&3
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
    case "$1" in
    *"$2"*) ;;
    *)
        printf 'FAIL: %s: [%s] does not contain [%s]\n' "$3" "$1" "$2" >&2
        exit 1
        ;;
    esac
    _count
    printf '   ok      %s contains %s\n' "$3" "$2" >&3
}

# assert_same_file EXPECTED ACTUAL: byte-for-byte equal (cmp).
assert_same_file() {
    if ! cmp "$1" "$2" >&2; then
        printf 'FAIL: %s differs from %s\n' "$2" "$1" >&2
        exit 1
    fi
    _count
    printf '   ok      cmp %s %s\n' "$(basename "$1")" "$(basename "$2")" >&3
}

# known_bug TEXT CHECK...: CHECK (an expect_* call written as AWS documents the outcome) is a
# step the emulator gets wrong (see the `# KNOWN-BUG:` comment above the call): skipped, so
# the suite stays green, unless FERRY_CLI_RUN_KNOWN_BUGS=1 (to see whether a fix works).
known_bug() {
    local text=$1
    shift
    if [ "${FERRY_CLI_RUN_KNOWN_BUGS:-0}" = 1 ]; then
        printf '   KNOWN-BUG step run (FERRY_CLI_RUN_KNOWN_BUGS=1): %s\n' "$text" >&3
        "$@"
        return
    fi
    echo >>"$WORK/.skipped"
    printf '   SKIPPED (KNOWN-BUG) %s\n           would run: %s\n' "$text" "$(_shown "$@")" >&3
}

# add_profile NAME KEY SECRET [TOKEN]: a profile in the script's own credentials file, the way
# the walkthroughs save credentials (`--profile AccountBadmin`, `--profile TempCred`).
add_profile() {
    {
        printf '[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$1" "$2" "$3"
        if [ -n "${4:-}" ]; then printf 'aws_session_token = %s\n' "$4"; fi
        printf '\n'
    } >>"$AWS_SHARED_CREDENTIALS_FILE"
}

# render FILE: a copy of a scenarios/policies file with its placeholders (${A}, ${B}, ${C},
# ${bucket}, ${canonical:A}) replaced; prints the copy's path. Needs BUCKET (and CANONICAL_A
# when the file names it).
render() {
    local src=$1 dst
    dst="$WORK/$(basename "$(dirname "$src")")-$(basename "$src")"
    sed -e "s/\${A}/$A/g" -e "s/\${B}/$B/g" -e "s/\${C}/$C/g" \
        -e "s/\${bucket}/${BUCKET:?}/g" -e "s/\${canonical:A}/${CANONICAL_A:-}/g" "$src" >"$dst"
    if grep -qE '\$\{(A|B|C|bucket|canonical:[A-C])\}' "$dst"; then
        printf 'FAIL: unreplaced placeholder in %s\n' "$src" >&2
        exit 1
    fi
    printf '%s' "$dst"
}

# finish: the closing line.
finish() {
    printf '\n%s: all %d checks held; %d steps skipped as known emulator bugs\n' \
        "$(basename "$0")" "$(wc -l <"$WORK/.checks")" "$(wc -l <"$WORK/.skipped")" >&3
}

# Shared helpers for end-to-end tests. Each tests/e2e/*.sh sources this file,
# runs the real executable ($SYSEXT_BUILD) and judges outputs with outside tools.
set -euo pipefail

: "${SYSEXT_BUILD:?set SYSEXT_BUILD to the sysext-build executable}"
: "${SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sysext-e2e.XXXXXX")
cleanup_work() {
    # Mounts made by a test in a private namespace vanish with it; nothing to unmount here.
    rm -rf "$WORK"
}
trap cleanup_work EXIT
# pack, build and payload create use a block cache by default: keep the tests'
# entries out of the user's cache (and the user's entries out of the tests).
export XDG_CACHE_HOME=$WORK/xdg-cache

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

step() {
    echo "--- $*"
}

# expect_exit CODE TEXT COMMAND...: the command exits CODE with TEXT on stderr.
expect_exit() {
    local code=$1 want=$2 err rc=0
    shift 2
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -eq "$code" ] || fail "expected exit $code, got $rc from: $*; stderr: $err"
    case "$err" in
    *"$want"*) ;;
    *) fail "expected '$want' on stderr of: $*; got: $err" ;;
    esac
}

# expect_fail "text the error must contain" cmd args...: the command must exit
# non-zero and print the text on stderr.
expect_fail() {
    local want=$1
    shift
    local err rc=0
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -ne 0 ] || fail "expected failure, got success: $*"
    case "$err" in
    *"$want"*) ;;
    *) fail "expected error containing '$want' from: $*; got: $err" ;;
    esac
}

# require_tool NAME...: the tools a test needs are installed by tools/setup;
# a missing one is a setup bug, so fail loudly rather than skip.
require_tool() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null || fail "missing tool $t (tools/setup should install it)"
    done
}

#!/usr/bin/env bash
# The system's refusals exit 5 and say what the system said, where: a full
# disk during pack is "No space left on device" (it was "input/output error")
# with nothing left behind; a release directory that cannot be made is
# "PATH: REASON" (it was exit 1 with C++'s "filesystem error: ..." text).
source "$(dirname "$0")/lib/common.sh"
require_tool unshare mount head

mkdir -p "$WORK/tree/usr/share" "$WORK/full"
head -c 3M /dev/urandom >"$WORK/tree/usr/share/blob"

step "pack onto a full file system (a 512 KiB tmpfs in a private mount namespace)"
rc=0
unshare -m sh -c 'mount -t tmpfs -o size=512k tmpfs "$1" || exit 99
    rc=0; "$2" pack "$3" -o "$1/x.raw" --os-id _any || rc=$?
    ls -A "$1" >"$4"; exit $rc' \
    sh "$WORK/full" "$SYSEXT_BUILD" "$WORK/tree" "$WORK/left" >"$WORK/err" 2>&1 || rc=$?
[ "$rc" = 5 ] || fail "full disk: exit $rc, not 5: $(cat "$WORK/err")"
grep -q "No space left on device" "$WORK/err" || fail "full disk not named: $(cat "$WORK/err")"
[ ! -s "$WORK/left" ] || fail "the full disk kept: $(cat "$WORK/left")"

step "a release directory that cannot be made"
mkdir -p "$WORK/t/usr/bin"
echo x >"$WORK/t/usr/bin/x"
rc=0
"$SYSEXT_BUILD" -q build "$SOURCE_DIR/profiles/my-files.json" --set root="$WORK/t" --set version=1 \
    -o "$WORK/out" --release-dir /proc/no-such-dir >"$WORK/err" 2>&1 || rc=$?
[ "$rc" = 5 ] || fail "release dir under /proc: exit $rc, not 5: $(cat "$WORK/err")"
grep -q "error: /proc/no-such-dir/any: No such file or directory" "$WORK/err" || fail "message: $(cat "$WORK/err")"
grep -q "filesystem error" "$WORK/err" && fail "C++'s wording leaked: $(cat "$WORK/err")"
echo PASS

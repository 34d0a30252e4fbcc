#!/usr/bin/env bash
# A lock file records everything the image's bytes depend on: `build --lock
# FILE` alone, from another directory with another SOURCE_DATE_EPOCH (or none),
# rebuilds the image byte for byte; a flag given beside --lock still wins; a
# lock made with another profile is refused.
source "$(dirname "$0")/lib/common.sh"
require_tool cmp python3

tree=$WORK/tree
mkdir -p "$tree/usr/bin" "$tree/usr/share/t"
printf '#!/bin/sh\necho t\n' >"$tree/usr/bin/t"
chmod 0755 "$tree/usr/bin/t"
head -c 300000 /dev/urandom >"$tree/usr/share/t/data"

step "a build with settings of its own"
SOURCE_DATE_EPOCH=1700000000 "$SYSEXT_BUILD" -q build "$SOURCE_DIR/profiles/my-files.json" --set root="$tree" \
    --set version=2.1 --arch arm64 --compression xz:6 --block-size 256K -o "$WORK/a"
python3 - "$WORK/a/my-files.lock.json" <<'PY' || fail "the lock lacks settings: $(cat "$WORK/a/my-files.lock.json")"
import json, sys
b = json.load(open(sys.argv[1]))["build"]
for k, v in {"profile": "my-files", "architecture": "arm64", "compression": "xz:6", "block_size": "262144",
             "mtime": "1700000000", "set.version": "2.1", "target": "any"}.items():
    assert b[k] == v, (k, b)
assert len(b["profile_sha256"]) == 64, b
PY

step "--lock alone, elsewhere, with another SOURCE_DATE_EPOCH and none"
mkdir -p "$WORK/elsewhere"
for epoch in 1 ""; do
    rm -rf "$WORK/b"
    (cd "$WORK/elsewhere" && SOURCE_DATE_EPOCH=$epoch "$SYSEXT_BUILD" -q build --lock "$WORK/a/my-files.lock.json" \
        --set root="$tree" -o "$WORK/b") || fail "build --lock (SOURCE_DATE_EPOCH=$epoch)"
    cmp "$WORK/a/my-files.raw" "$WORK/b/my-files.raw" || fail "SOURCE_DATE_EPOCH=$epoch: other bytes"
    cmp "$WORK/a/my-files.lock.json" "$WORK/b/my-files.lock.json" || fail "the lock changed"
done

step "a flag beside --lock wins, and the new lock says so"
"$SYSEXT_BUILD" -q build --lock "$WORK/a/my-files.lock.json" --set root="$tree" --compression zstd:3 -o "$WORK/c"
cmp -s "$WORK/a/my-files.raw" "$WORK/c/my-files.raw" && fail "--compression beside --lock was ignored"
grep -q '"compression": "zstd:3"' "$WORK/c/my-files.lock.json" || fail "the new lock does not record zstd:3"

step "a lock made with another profile is refused"
sed 's/"description": "/"description": "changed: /' "$SOURCE_DIR/profiles/my-files.json" >"$WORK/other.json"
expect_fail "made with another profile" "$SYSEXT_BUILD" build "$WORK/other.json" --lock "$WORK/a/my-files.lock.json" \
    --set root="$tree" -o "$WORK/d"
step "--revision: VERSION-rN in the release's names, and in the lock for rebuilds"
"$SYSEXT_BUILD" -q build "$SOURCE_DIR/profiles/my-files.json" --set root="$tree" --set version=2.1 --revision 2 \
    -o "$WORK/r" --release-dir "$WORK/rel"
[ -f "$WORK/rel/any/my-files-2.1-r2-x86-64/my-files-2.1-r2-x86-64.raw" ] || fail "no 2.1-r2 release: $(ls -R "$WORK/rel")"
grep -q '"revision": "2"' "$WORK/r/my-files.lock.json" || fail "the lock lacks the revision"
"$SYSEXT_BUILD" -q build --lock "$WORK/r/my-files.lock.json" --set root="$tree" -o "$WORK/r2"
cmp "$WORK/r/my-files.raw" "$WORK/r2/my-files.raw" || fail "the revision's lock rebuilds other bytes"
echo PASS

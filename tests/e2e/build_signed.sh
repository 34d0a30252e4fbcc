#!/usr/bin/env bash
# build --key/--cert [--ddi]: the profile's image signed as the last stage,
# judged by veritysetup, openssl and sfdisk; two builds give the same bytes.
source "$(dirname "$0")/lib/common.sh"
require_tool veritysetup openssl sfdisk unsquashfs
mkdir -p "$WORK/tree/usr/bin"
printf '#!/bin/sh\necho hello\n' >"$WORK/tree/usr/bin/hello"
chmod 755 "$WORK/tree/usr/bin/hello"
"$SYSEXT_BUILD" -q keygen -o "$WORK/keys"
sign=(--key "$WORK/keys/development.key" --cert "$WORK/keys/development.crt")
common=(build "$SOURCE_DIR/profiles/my-files.json" --set "root=$WORK/tree" --set version=1.0)

step "sidecars"
"$SYSEXT_BUILD" -q "${common[@]}" -o "$WORK/a" "${sign[@]}"
for f in my-files.raw my-files.verity my-files.roothash my-files.roothash.p7s my-files.lock.json; do
    [ -f "$WORK/a/$f" ] || fail "missing $f"
done
veritysetup verify "$WORK/a/my-files.raw" "$WORK/a/my-files.verity" "$(cat "$WORK/a/my-files.roothash")" ||
    fail "veritysetup rejects the tree"
printf %s "$(cat "$WORK/a/my-files.roothash")" >"$WORK/roothash.txt"
openssl smime -verify -binary -inform DER -in "$WORK/a/my-files.roothash.p7s" -content "$WORK/roothash.txt" \
    -certfile "$WORK/keys/development.crt" -nointern -noverify >/dev/null 2>&1 || fail "openssl rejects the signature"
unsquashfs -cat "$WORK/a/my-files.raw" usr/bin/hello | grep -q hello || fail "image content"

step "same bytes twice"
"$SYSEXT_BUILD" -q "${common[@]}" -o "$WORK/b" "${sign[@]}"
for f in my-files.raw my-files.verity my-files.roothash my-files.roothash.p7s; do
    cmp "$WORK/a/$f" "$WORK/b/$f" || fail "$f differs between two builds"
done

step "disk image"
"$SYSEXT_BUILD" -q "${common[@]}" -o "$WORK/d" "${sign[@]}" --ddi
[ ! -e "$WORK/d/my-files.verity" ] || fail "sidecars written with --ddi"
sfdisk --json "$WORK/d/my-files.raw" | python3 -c '
import json, sys
parts = json.load(sys.stdin)["partitiontable"]["partitions"]
names = [p.get("name") for p in parts]
assert names == ["my-files", "my-files-verity", "my-files-verity-sig"], names' || fail "partition layout"
"$SYSEXT_BUILD" verify "$WORK/d/my-files.raw" --cert "$WORK/keys/development.crt" >/dev/null || fail "verify of the disk image"

step "signing without a certificate is a usage error, and no image appears"
expect_fail "needs both --key and --cert" "$SYSEXT_BUILD" "${common[@]}" -o "$WORK/e" --key "$WORK/keys/development.key"
[ ! -e "$WORK/e/my-files.raw" ] || fail "image written despite the error"
echo "build_signed: ok"

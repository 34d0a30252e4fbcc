#!/usr/bin/env bash
# The whole path: pack a tree, sign the image (sidecars and disk image), verify
# it, and check the result with veritysetup and systemd-dissect.
source "$(dirname "$0")/lib/common.sh"
require_tool veritysetup systemd-dissect python3
cd "$WORK"

mkdir -p tree/usr/bin tree/usr/lib/systemd/system out ddi
printf '#!/bin/sh\necho hello\n' >tree/usr/bin/hello
chmod 0755 tree/usr/bin/hello
printf '[Service]\nExecStart=/usr/bin/hello\n' >tree/usr/lib/systemd/system/hello.service
"$SYSEXT_BUILD" -q pack tree -o out/hello.raw --os-id _any --arch arm64
"$SYSEXT_BUILD" -q keygen -o keys

step "sign and verify the packed image"
"$SYSEXT_BUILD" -q sign out/hello.raw --key keys/development.key --cert keys/development.crt
"$SYSEXT_BUILD" -q verify out/hello.raw --cert keys/development.crt || fail "verify failed"
veritysetup verify out/hello.raw out/hello.verity "$(cat out/hello.roothash)" ||
    fail "veritysetup rejected the tree of a packed image"
systemd-dissect --json=short out/hello.raw | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["mounts"][0]["verity"] == "external" and d["useSystemExtension"], d' ||
    fail "systemd-dissect does not see a verity-protected extension"

step "the disk image takes the architecture from the packed release file"
"$SYSEXT_BUILD" --json sign out/hello.raw --key keys/development.key --cert keys/development.crt \
    --ddi -o ddi/hello.raw >sign.json
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["architecture"] == "arm64"' sign.json ||
    fail "unexpected architecture: $(cat sign.json)"
"$SYSEXT_BUILD" -q verify ddi/hello.raw --cert keys/development.crt || fail "verify of the disk failed"
systemd-dissect --json=short ddi/hello.raw | python3 -c '
import json, sys
m = {x["designator"]: x for x in json.load(sys.stdin)["mounts"]}
assert m["root"]["architecture"] == "arm64" and m["root"]["fstype"] == "squashfs", m' ||
    fail "systemd-dissect does not see an arm64 root partition"
echo PASS

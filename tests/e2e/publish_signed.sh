#!/usr/bin/env bash
# Signed releases: with sidecars the release carries NAME-VERSION-ARCH.verity,
# .roothash and .p7s (the root hash signature: systemd-sysupdate 257 would take
# a .roothash.p7s for the .roothash; hosts link it as NAME.roothash.p7s), which
# veritysetup and openssl accept, and `verify` through the links hosts make
# (the names systemd derives from the image's by removing .raw); with --ddi the image is
# the signed disk image, whose root partition the contents report lists.
# manifest.json names the root hash and the certificate's SHA-256 fingerprint
# (openssl), and sha256sum -c accepts SHA256SUMS. A Debian-only image (ID=debian)
# gets no Butane snippet.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool veritysetup openssl sfdisk sha256sum python3 unsquashfs

mkdir -p "$WORK/tree/usr/bin"
printf '#!/bin/sh\necho hello\n' >"$WORK/tree/usr/bin/hello"
chmod 755 "$WORK/tree/usr/bin/hello"
"$SYSEXT_BUILD" -q keygen -o "$WORK/keys"
sign=(--key "$WORK/keys/development.key" --cert "$WORK/keys/development.crt")
fingerprint=$(openssl x509 -in "$WORK/keys/development.crt" -outform DER | sha256sum | cut -d' ' -f1)
common=(build --download-cache "$BUILD_CACHE" "$SOURCE_DIR/profiles/my-files.json" --set "root=$WORK/tree" --set version=2.0)

check_manifest() { # DIR FORMAT
    python3 - "$1" "$2" "$fingerprint" <<'PY'
import json, os, sys
rel, fmt, fp = sys.argv[1:4]
m = json.load(open(os.path.join(rel, "manifest.json")))
s = m["signature"]
assert s["format"] == fmt and s["certificate_fingerprint"] == fp, s
assert len(s["root_hash"]) == 64, s
names = {o["name"] for o in m["outputs"]}
assert names == set(os.listdir(rel)) - {"manifest.json", "SHA256SUMS"}, names
PY
}

step "sidecars, renamed after the image"
"$SYSEXT_BUILD" -q "${common[@]}" -o "$WORK/a" "${sign[@]}" --release-dir "$WORK/rel-a" --base-url http://127.0.0.1:1/x
r=$WORK/rel-a/any/my-files-2.0-x86-64
for f in my-files-2.0-x86-64.raw my-files-2.0-x86-64.verity my-files-2.0-x86-64.roothash my-files-2.0-x86-64.p7s; do
    [ -f "$r/$f" ] || fail "missing $f in the release: $(ls "$r")"
done
ls "$r" | grep -F .roothash. && fail "a name that begins with the .roothash's in the release"
(cd "$r" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c"
veritysetup verify "$r/my-files-2.0-x86-64.raw" "$r/my-files-2.0-x86-64.verity" "$(cat "$r/my-files-2.0-x86-64.roothash")" ||
    fail "veritysetup rejects the released tree"
printf %s "$(cat "$r/my-files-2.0-x86-64.roothash")" >"$WORK/roothash.txt"
openssl smime -verify -binary -inform DER -in "$r/my-files-2.0-x86-64.p7s" -content "$WORK/roothash.txt" \
    -certfile "$WORK/keys/development.crt" -nointern -noverify >/dev/null 2>&1 || fail "openssl rejects the released signature"
check_manifest "$r" sidecars || fail "manifest.json of the sidecar release: $(cat "$r/manifest.json")"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["signature"]["root_hash"] == open(sys.argv[2]).read().strip()' \
    "$r/manifest.json" "$r/my-files-2.0-x86-64.roothash" || fail "the manifest's root hash is not the .roothash"
# The released name is not the release file's (extension-release.my-files):
# verify takes it as systemd does, by its user.extension-release.strict=0 mark,
# with the sidecars linked under systemd's names as the transfers link them.
mkdir "$WORK/host"
for f in raw verity roothash; do
    ln -s "$r/my-files-2.0-x86-64.$f" "$WORK/host/my-files-2.0-x86-64.$f"
done
ln -s "$r/my-files-2.0-x86-64.p7s" "$WORK/host/my-files-2.0-x86-64.roothash.p7s"
"$SYSEXT_BUILD" verify "$WORK/host/my-files-2.0-x86-64.raw" --cert "$WORK/keys/development.crt" >"$WORK/verify-a.txt" 2>&1 ||
    fail "verify refuses the published image: $(cat "$WORK/verify-a.txt")"
grep -qi "signature" "$WORK/verify-a.txt" || fail "verify does not mention the signature: $(cat "$WORK/verify-a.txt")"
unsquashfs -d "$WORK/strict" "$r/my-files-2.0-x86-64.raw" >/dev/null
[ "$(getfattr --absolute-names --only-values -n user.extension-release.strict "$WORK/strict/usr/lib/extension-release.d/extension-release.my-files")" = 0 ] ||
    fail "the released image's release file is not marked strict=0"
# Without the mark (the same tree packed again, the xattr removed), verify refuses the name.
setfattr -x user.extension-release.strict "$WORK/strict/usr/lib/extension-release.d/extension-release.my-files"
mkdir -p "$WORK/unmarked"
"$SYSEXT_BUILD" -q pack "$WORK/strict" -o "$WORK/unmarked/my-files.raw"
mv "$WORK/unmarked/my-files.raw" "$WORK/unmarked/my-files-2.0-x86-64.raw"
expect_fail "no usr/lib/extension-release.d/extension-release.my-files-2.0-x86-64" \
    "$SYSEXT_BUILD" sign "$WORK/unmarked/my-files-2.0-x86-64.raw" "${sign[@]}"
expect_fail "no usr/lib/extension-release.d/extension-release.my-files-2.0-x86-64" \
    "$SYSEXT_BUILD" verify "$WORK/unmarked/my-files-2.0-x86-64.raw" --cert "$WORK/keys/development.crt"

step "a signed disk image"
"$SYSEXT_BUILD" -q "${common[@]}" -o "$WORK/d" "${sign[@]}" --ddi --release-dir "$WORK/rel-d"
r=$WORK/rel-d/any/my-files-2.0-x86-64
[ ! -e "$r/my-files-2.0-x86-64.verity" ] || fail "sidecars in a --ddi release"
cmp "$WORK/d/my-files.raw" "$r/my-files-2.0-x86-64.raw" || fail "the released disk image differs"
(cd "$r" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c"
check_manifest "$r" ddi || fail "manifest.json of the disk image release: $(cat "$r/manifest.json")"
# contents.txt lists the root partition's squashfs: cut it out by sfdisk's numbers.
read -r start size < <(sfdisk --json "$r/my-files-2.0-x86-64.raw" | python3 -c '
import json, sys
p = json.load(sys.stdin)["partitiontable"]["partitions"][0]
print(p["start"], p["size"])')
dd if="$r/my-files-2.0-x86-64.raw" of="$WORK/root.squashfs" bs=512 skip="$start" count="$size" status=none
diff -u <(unsquashfs -lln "$WORK/root.squashfs" | sed -n 's|^.* squashfs-root/\([^ ]*\).*$|\1|p' | LC_ALL=C sort) \
    <(grep -v '^#' "$r/contents.txt" | awk '{print $4}' | grep -vx '\.' | LC_ALL=C sort) ||
    fail "contents.txt does not list the disk image's root partition"

step "ID=debian: no Butane snippet, a warning"
mkdir -p "$WORK/profiles"
cat >"$WORK/profiles/deb.json" <<'EOF'
{
  "name": "deb",
  "targets": { "debian": { "release": {"ID": "debian", "VERSION_ID": "13"}, "requires": ["root", "version"],
                           "sources": [{"type": "directory", "path": "${root}"}] } }
}
EOF
build "$WORK/profiles/deb.json" --set "root=$WORK/tree" --set version=1 -o "$WORK/deb" --release-dir "$WORK/rel-deb" \
    2>"$WORK/deb.err" >/dev/null
grep -q "no Butane snippet: the image is for ID=debian hosts" "$WORK/deb.err" || fail "no warning: $(cat "$WORK/deb.err")"
ls "$WORK/rel-deb/debian/deb-1-x86-64" | grep -q '\.bu$' && fail "a Butane snippet for a Debian image"
[ -f "$WORK/rel-deb/debian/deb-1-x86-64/deb.conf" ] || fail "no transfer deb.conf for the Debian image"
echo "ok"

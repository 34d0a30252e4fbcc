#!/usr/bin/env bash
# sign writes NAME.verity, NAME.roothash and NAME.roothash.p7s next to NAME.raw;
# cryptsetup, OpenSSL and systemd-dissect accept them, and two runs agree.
source "$(dirname "$0")/lib/common.sh"
require_tool mksquashfs veritysetup openssl systemd-dissect sha256sum python3
cd "$WORK"

make_image() { # make_image NAME DIR: a small extension image NAME.raw in DIR
    local root="$WORK/root-$1"
    mkdir -p "$root/usr/lib/extension-release.d" "$root/usr/share/$1" "$2"
    printf 'ID=_any\nARCHITECTURE=x86-64\n' >"$root/usr/lib/extension-release.d/extension-release.$1"
    python3 -c 'import random,sys; random.seed(7); sys.stdout.buffer.write(random.randbytes(900000))' \
        >"$root/usr/share/$1/blob"
    mksquashfs "$root" "$2/$1.raw" -all-root -noappend -quiet >/dev/null
    truncate -s %4096 "$2/$1.raw"
}

step "development key"
"$SYSEXT_BUILD" keygen -o keys >keygen.log
[ "$(stat -c %a keys/development.key)" = 600 ] || fail "key file is not mode 0600"
openssl x509 -in keys/development.crt -noout -subject | grep -q "NOT FOR RELEASE" ||
    fail "development certificate does not say it is not for release"

step "sign with sidecars"
make_image demo a
"$SYSEXT_BUILD" sign a/demo.raw --key keys/development.key --cert keys/development.crt >sign.log
for f in demo.verity demo.roothash demo.roothash.p7s; do
    [ -s "a/$f" ] || fail "a/$f missing"
done
root=$(cat a/demo.roothash)
[[ "$root" =~ ^[0-9a-f]{64}$ ]] || fail "roothash is not 64 lowercase hex digits: $root"
[ "$(wc -l <a/demo.roothash)" = 1 ] || fail "roothash is not one line"

step "veritysetup verify accepts our tree and root hash"
veritysetup verify a/demo.raw a/demo.verity "$root" || fail "veritysetup verify rejected our tree"
veritysetup dump a/demo.verity >dump.txt
grep -q "Hash type:.*1" dump.txt && grep -q "Data block size:.*4096" dump.txt &&
    grep -q "Hash algorithm:.*sha256" dump.txt || fail "unexpected verity parameters: $(cat dump.txt)"
salt=$(awk '/^Salt:/ {print $2}' dump.txt)
[ "$salt" = "$(sha256sum a/demo.raw | cut -d' ' -f1)" ] || fail "salt is not the image's SHA-256"
uuid=$(awk '/^UUID:/ {print $2}' dump.txt)

step "veritysetup format with the same salt computes the same root hash and tree"
veritysetup format a/demo.raw ref.verity --salt "$salt" --uuid "$uuid" >format.txt
ref_root=$(awk '/^Root hash:/ {print $3}' format.txt)
[ "$ref_root" = "$root" ] || fail "veritysetup computes $ref_root, we wrote $root"
cmp ref.verity a/demo.verity || fail "our .verity differs from veritysetup's"
[ "${uuid//-/}" = "${root:32}" ] || fail "superblock UUID $uuid is not the last 128 bits of $root"

step "openssl accepts the detached PKCS#7 over the hex root hash"
printf %s "$root" >content
openssl smime -verify -binary -inform DER -in a/demo.roothash.p7s -content content \
    -certfile keys/development.crt -nointern -noverify >/dev/null 2>smime.log ||
    fail "openssl smime rejected the signature: $(cat smime.log)"
openssl cms -verify -binary -inform DER -in a/demo.roothash.p7s -content content \
    -certfile keys/development.crt -nointern -noverify >/dev/null 2>cms.log ||
    fail "openssl cms rejected the signature: $(cat cms.log)"
openssl cms -cmsout -print -inform DER -in a/demo.roothash.p7s >p7.txt
grep -q "signingTime" p7.txt && fail "signature carries a signing time"
grep -A1 "signedAttrs:" p7.txt | grep -q "<ABSENT>" || fail "signature carries signed attributes"
printf '%s\n' "$root" >content-nl
openssl smime -verify -binary -inform DER -in a/demo.roothash.p7s -content content-nl \
    -certfile keys/development.crt -nointern -noverify >/dev/null 2>&1 &&
    fail "signature also verifies over the root hash with a newline"

step "a second run gives identical files"
make_image demo b
"$SYSEXT_BUILD" sign b/demo.raw --key keys/development.key --cert keys/development.crt >/dev/null
for f in demo.raw demo.verity demo.roothash demo.roothash.p7s; do
    cmp "a/$f" "b/$f" || fail "$f differs between two runs"
done

step "--salt gives the tree veritysetup makes with that salt"
mkdir c && cp a/demo.raw c/
"$SYSEXT_BUILD" --json sign c/demo.raw --key keys/development.key --cert keys/development.crt \
    --salt 00112233 >c.json
c_root=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_hash"])' c.json)
veritysetup format c/demo.raw c-ref.verity --salt 00112233 | grep -q "Root hash:.*$c_root" ||
    fail "veritysetup disagrees with our root hash for salt 00112233"

step "systemd-dissect finds the sidecar tree and the release file"
systemd-dissect --json=short a/demo.raw >dissect.json
python3 - a/demo.raw dissect.json <<'PY' || fail "systemd-dissect: $(cat dissect.json)"
import json, sys
d = json.load(open(sys.argv[2]))
m = d["mounts"][0]
assert m["fstype"] == "squashfs", m
assert m["verity"] == "external", m          # NAME.verity was picked up
assert d["useSystemExtension"] is True, d
assert "ARCHITECTURE=x86-64" in d["extensionRelease"], d
PY

step "sysext-build verify accepts the result"
"$SYSEXT_BUILD" verify a/demo.raw --cert keys/development.crt >verify.log || fail "verify failed"
"$SYSEXT_BUILD" --json verify a/demo.raw --cert keys/development.crt >verify.json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["kind"]=="sidecar" and len(d["checks"])==4, d' verify.json ||
    fail "verify --json: $(cat verify.json)"

step "images not named NAME.raw and partial blocks are refused"
cp a/demo.raw demo.img
expect_fail "sidecar files need an image named NAME.raw" \
    "$SYSEXT_BUILD" sign demo.img --key keys/development.key --cert keys/development.crt
head -c 5000 a/demo.raw >short.raw
expect_fail "is not a multiple of 4096" \
    "$SYSEXT_BUILD" sign short.raw --key keys/development.key --cert keys/development.crt
echo PASS

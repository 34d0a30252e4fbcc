#!/usr/bin/env bash
# sign --ddi -o writes a GPT disk image with usr, usr-verity and usr-verity-sig
# partitions; sfdisk, veritysetup, openssl and systemd-dissect read it as such,
# and two runs give identical bytes.
source "$(dirname "$0")/lib/common.sh"
require_tool mksquashfs veritysetup openssl systemd-dissect sfdisk sha256sum python3
cd "$WORK"

make_image() { # make_image NAME DIR [ARCH]: a small extension image NAME.raw in DIR
    local root="$WORK/root-$1"
    mkdir -p "$root/usr/lib/extension-release.d" "$root/usr/share/$1" "$2"
    printf 'ID=_any\nARCHITECTURE=%s\n' "${3:-x86-64}" \
        >"$root/usr/lib/extension-release.d/extension-release.$1"
    python3 -c 'import random,sys; random.seed(7); sys.stdout.buffer.write(random.randbytes(900000))' \
        >"$root/usr/share/$1/blob"
    mksquashfs "$root" "$2/$1.raw" -all-root -noappend -quiet >/dev/null
    truncate -s %4096 "$2/$1.raw"
}

"$SYSEXT_BUILD" -q keygen -o keys
make_image demo src
sign() { "$SYSEXT_BUILD" "$@" --key keys/development.key --cert keys/development.crt; }

step "sign --ddi, twice: identical disk images"
mkdir a b
sign --json sign src/demo.raw --ddi -o a/demo.raw >a.json
sign -q sign src/demo.raw --ddi -o b/demo.raw
cmp a/demo.raw b/demo.raw || fail "two disk images of the same input differ"
root=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_hash"])' a.json)
ls src/ | grep -q verity && fail "--ddi also wrote sidecar files"

step "sfdisk shows the partition types, UUIDs, names and sizes"
sfdisk --dump a/demo.raw >dump.txt
sfdisk --json a/demo.raw >layout.json
img_size=$(stat -c %s src/demo.raw)
python3 - layout.json "$root" "$img_size" <<'PY' || fail "unexpected layout: $(cat dump.txt)"
import json, sys
t = json.load(open(sys.argv[1]))["partitiontable"]
root, img_size = sys.argv[2], int(sys.argv[3])
assert t["label"] == "gpt" and t["sectorsize"] == 512, t
p = t["partitions"]
assert len(p) == 3, p
def uuid(h): return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}".upper()
usr, ver, sig = p  # root-x86-64, root-x86-64-verity, root-x86-64-verity-sig (systemd-id128 show)
assert usr["type"] == "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", usr
assert ver["type"] == "2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5", ver
assert sig["type"] == "41092B05-9FC8-4523-994F-2DEF0408B176", sig
assert usr["uuid"] == uuid(root[:32]), (usr, root)   # first 128 bits of the root hash
assert ver["uuid"] == uuid(root[32:]), (ver, root)   # last 128 bits
assert usr["name"] == "demo" and ver["name"] == "demo-verity" and sig["name"] == "demo-verity-sig", p
assert usr["start"] == 2048 and usr["size"] * 512 == img_size, usr
assert ver["start"] == usr["start"] + usr["size"] and sig["start"] == ver["start"] + ver["size"], p
assert sig["size"] * 512 % 4096 == 0 and ver["size"] * 512 % 4096 == 0, p
for x in p:
    assert x["start"] % 8 == 0, x                    # 4096-byte alignment
    assert x.get("attrs") == "GUID:60", x           # read-only
PY
grep -q "^label-id: " dump.txt || fail "no disk GUID"

step "the root partition is the image, and veritysetup accepts the verity partition"
part() { # part N OUT: copy partition N out of the disk image
    local start size
    read -r start size < <(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["partitiontable"]["partitions"][int(sys.argv[2])]; print(p["start"], p["size"])' layout.json "$1")
    dd if=a/demo.raw of="$2" bs=512 skip="$start" count="$size" status=none
}
part 0 root.img
part 1 verity.img
part 2 sig.img
cmp root.img src/demo.raw || fail "root partition is not the image"
veritysetup verify root.img verity.img "$root" || fail "veritysetup rejected the verity partition"
veritysetup dump verity.img | grep -q "Data blocks:.*$((img_size / 4096))" || fail "bad verity superblock"

step "the signature partition holds the JSON systemd reads"
python3 - sig.img "$root" <<'PY' || fail "bad signature partition"
import base64, json, sys
raw = open(sys.argv[1], "rb").read()
text, _, pad = raw.partition(b"\0")
assert pad.strip(b"\0") == b"" and len(raw) % 4096 == 0
j = json.loads(text)
assert set(j) == {"rootHash", "certificateFingerprint", "signature"}, j
assert j["rootHash"] == sys.argv[2]
open("sig.p7s", "wb").write(base64.b64decode(j["signature"], validate=True))
open("fingerprint", "w").write(j["certificateFingerprint"])
PY
[ "$(cat fingerprint)" = "$(openssl x509 -in keys/development.crt -outform DER | sha256sum | cut -d' ' -f1)" ] ||
    fail "certificateFingerprint is not the SHA-256 of the DER certificate"
printf %s "$root" >content
openssl smime -verify -binary -inform DER -in sig.p7s -content content \
    -certfile keys/development.crt -nointern -noverify >/dev/null 2>smime.log ||
    fail "openssl rejected the embedded signature: $(cat smime.log)"

step "systemd-dissect reads the disk image"
# systemd 252 attaches a loop device and probes the partitions; without
# device-mapper it cannot open verity, so it reports the root partition as a
# verity candidate ("no" = has verity data, not set up). A sysext's tree has
# usr/ at its top: root partitions, as systemd-repart writes them for sysexts
# (systemd mounts a usr partition at /usr, where usr/lib/... would be
# /usr/usr/lib/...).
systemd-dissect --json=short a/demo.raw >dissect.json || fail "systemd-dissect failed"
python3 - dissect.json "$root" <<'PY' || fail "systemd-dissect: $(cat dissect.json)"
import json, sys
d = json.load(open(sys.argv[1]))
m = {x["designator"]: x for x in d["mounts"]}
root = sys.argv[2]
assert set(m) == {"root", "root-verity", "root-verity-sig"}, m
assert m["root"]["fstype"] == "squashfs" and m["root"]["architecture"] == "x86-64", m
assert m["root"]["verity"] in ("no", "yes", "signed"), m
assert m["root"]["partition_uuid"].replace("-", "") == root[:32], m
assert m["root-verity"]["fstype"] == "DM_verity_hash", m
assert m["root-verity"]["partition_uuid"].replace("-", "") == root[32:], m
assert m["root-verity-sig"]["fstype"] == "verity_hash_signature", m
PY

step "sysext-build verify accepts the disk image"
"$SYSEXT_BUILD" --json verify a/demo.raw --cert keys/development.crt >verify.json ||
    fail "verify failed: $(cat verify.json)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["kind"]=="ddi" and d["architecture"]=="x86-64", d' verify.json

step "the layout older releases wrote (usr partitions) is refused with the reason"
# sfdisk, not our code, turns the same bytes into the usr layout: systemd
# mounts that tree at /usr and never finds usr/lib/extension-release.d there.
cp a/demo.raw usr-layout.raw
sfdisk -q --part-type usr-layout.raw 1 8484680c-9521-48c6-9c11-b0720656f69e
sfdisk -q --part-type usr-layout.raw 2 77ff5f63-e7b6-4633-acf4-1565b864c0e6
sfdisk -q --part-type usr-layout.raw 3 e7bb33fb-06cf-4e81-8273-e543b413e2e2
systemd-dissect --json=short usr-layout.raw | python3 -c '
import json, sys
assert {x["designator"] for x in json.load(sys.stdin)["mounts"]} == {"usr", "usr-verity", "usr-verity-sig"}' ||
    fail "sfdisk did not make the usr layout"
expect_fail "which systemd mounts at /usr" "$SYSEXT_BUILD" verify usr-layout.raw --cert keys/development.crt
rc=0; "$SYSEXT_BUILD" verify usr-layout.raw --cert keys/development.crt >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 4 ] || fail "verify of the usr layout exited $rc, not 4"
rc=0; "$SYSEXT_BUILD" inspect usr-layout.raw --cert keys/development.crt >inspect-usr.txt 2>&1 || rc=$?
[ "$rc" -eq 4 ] || fail "inspect of the usr layout exited $rc, not 4: $(cat inspect-usr.txt)"
grep -q "systemd-sysext cannot merge the image" inspect-usr.txt || fail "inspect does not say why: $(cat inspect-usr.txt)"

step "architectures: from the release file, --arch, and mismatches"
make_image other src arm64
sign -q sign src/other.raw --ddi -o other.raw
sfdisk --json other.raw | grep -qi '"type": "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"' ||
    fail "arm64 image did not get the arm64 root type"
mkdir c
expect_fail "says ARCHITECTURE=arm64, but --arch is x86-64" \
    sign sign src/other.raw --ddi -o c/other.raw --arch x86-64
make_image any src _any
expect_fail 'unknown architecture "x86_64" for a disk image (did you mean "x86-64"?)' \
    sign sign src/any.raw --ddi -o c/any.raw --arch x86_64
expect_fail "names no architecture; pass --arch" sign sign src/any.raw --ddi -o c/any.raw
expect_fail "no usr/lib/extension-release.d/extension-release.renamed" \
    sign sign src/demo.raw --ddi -o c/renamed.raw
[ -z "$(ls -A c)" ] || fail "a failed sign left files behind: $(ls -A c)"
echo PASS

#!/usr/bin/env bash
# profiles/podman.json's flatcar target: the extension taken from a root that
# Flatcar's SDK installed packages into (here a small stand-in root with the
# same paths), named flatcar-podman, with ID=flatcar and the given VERSION_ID.
# Before Flatcar 4628 a squashfs image (judged by unsquashfs and
# systemd-dissect); from 4628 on, as Flatcar ships its extensions since, a
# signed EROFS disk image (root, root-verity, root-verity-sig) at Flatcar's
# settings (LZ4HC level 12, 64 KiB physical clusters, tail packing), judged by
# sfdisk, systemd-dissect, veritysetup, fsck.erofs and dump.erofs; the payload
# is made of it and the independent reader rebuilds it byte for byte.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/flatcar_sdk_root.sh"
require_tool unsquashfs systemd-dissect sfdisk veritysetup fsck.erofs dump.erofs openssl unshare findmnt
root=$WORK/sdk-root
make_flatcar_sdk_root "$root"

"$SYSEXT_BUILD" -q podman --target flatcar --set "root=$root" --set os_version=4593.2.5 \
    --set version=5.4.2 -o "$WORK/out"
img=$WORK/out/flatcar-podman.raw
[ -f "$img" ] || fail "no flatcar-podman.raw"
rel=$(unsquashfs -cat "$img" usr/lib/extension-release.d/extension-release.flatcar-podman)
for kv in ID=flatcar VERSION_ID=4593.2.5 ARCHITECTURE=x86-64 EXTENSION_RELOAD_MANAGER=1 \
          SYSEXT_ID=flatcar-podman SYSEXT_VERSION_ID=5.4.2; do
    grep -qx "$kv" <<<"$rel" || fail "release lacks $kv: $rel"
done
list=$(unsquashfs -lln "$img")
grep -q "squashfs-root/usr/share/podman/etc/containers/registries.conf" <<<"$list" || fail "registries.conf not relocated"
grep -q "squashfs-root/usr/bin/not-podman" <<<"$list" && fail "select took a file it does not name"
grep -q "squashfs-root/etc" <<<"$list" && fail "etc/ in the image"
grep -qF "C /etc/containers/registries.conf - - - - /usr/share/podman/etc/containers/registries.conf" \
    <(unsquashfs -cat "$img" usr/lib/tmpfiles.d/podman-etc-defaults.conf) || fail "no tmpfiles rule for registries.conf"
systemd-dissect --json=short "$img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert "flatcar-podman" in json.dumps(d.get("extensionRelease") or d), d' || fail "systemd-dissect does not see the release"

step "the flatcar target writes the update payload, signed offline"
pay=$WORK/out/flatcar-podman.gz
[ -f "$pay" ] && [ -f "$pay.hash" ] || fail "no payload or hash file next to the image"
[ "$(stat -c %s "$pay.hash")" = 32 ] || fail "hash file is not 32 raw bytes"
for k in 1 2; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/k$k.pem" 2>/dev/null
    chmod 600 "$WORK/k$k.pem"
    openssl pkey -in "$WORK/k$k.pem" -pubout -out "$WORK/k$k.pub"
    # The offline signer sees only the hash: PKCS#1 v1.5 with the SHA-256 DigestInfo.
    openssl pkeyutl -sign -inkey "$WORK/k$k.pem" -pkeyopt digest:sha256 -in "$pay.hash" -out "$WORK/sig$k"
done
"$SYSEXT_BUILD" -q payload attach "$pay" --signature "$WORK/sig1" --signature "$WORK/sig2" -o "$WORK/signed.gz"
/usr/bin/python3 "$SOURCE_DIR/tests/tools/payload_reader.py" verify "$WORK/signed.gz" --pubkey "$WORK/k1.pub" \
    --pubkey "$WORK/k2.pub" --out "$WORK/rebuilt.raw" >/dev/null || fail "the independent reader rejects the payload"
cmp "$img" "$WORK/rebuilt.raw" || fail "the payload does not rebuild the image"

step "with --payload-key the build signs the payload itself"
"$SYSEXT_BUILD" -q podman --target flatcar --set "root=$root" --set os_version=4593.2.5 \
    --set version=5.4.2 -o "$WORK/out2" --payload-key "$WORK/k1.pem"
[ ! -e "$WORK/out2/flatcar-podman.gz.hash" ] || fail "hash file written for a signed payload"
/usr/bin/python3 "$SOURCE_DIR/tests/tools/payload_reader.py" verify "$WORK/out2/flatcar-podman.gz" --pubkey "$WORK/k1.pub" \
    >/dev/null || fail "the independent reader rejects the signed payload"

step "Flatcar 4628 and later: a signed EROFS disk image at Flatcar's settings, which needs a key"
expect_exit 2 "give --key and --cert (or --format for a bare image)" "$SYSEXT_BUILD" podman --target flatcar \
    --set "root=$root" --set os_version=4628.0.0 --set version=5.4.2 -o "$WORK/nokey"
[ ! -e "$WORK/nokey/flatcar-podman.raw" ] || fail "an image was written without a key"
"$SYSEXT_BUILD" -q keygen -o "$WORK/keys"
keys=(--key "$WORK/keys/development.key" --cert "$WORK/keys/development.crt")
for o in e1 e2; do
    "$SYSEXT_BUILD" --json podman --target flatcar --set "root=$root" --set os_version=4628.0.0 \
        --set version=5.4.2 -o "$WORK/$o" "${keys[@]}" >"$WORK/$o.json" || fail "the 4628 build failed"
done
ddi=$WORK/e1/flatcar-podman.raw
python3 - "$WORK/e1.json" <<'PY' || fail "--json: $(cat "$WORK/e1.json")"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["packing"]
assert d["format"] == "erofs" and p["compression"] == "lz4hc:12" and p["erofs_pcluster"] == 65536, p
assert p["tail_packing"] is True and p["disk_image"] is True and "podman.json:" in p["rule"], p
assert len(d["root_hash"]) == 64 and d["payload"].endswith("flatcar-podman.gz"), d
PY
roothash=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["root_hash"])' "$WORK/e1.json")
cmp "$ddi" "$WORK/e2/flatcar-podman.raw" || fail "two 4628 builds give other disk images"
cmp "$WORK/e1/flatcar-podman.gz" "$WORK/e2/flatcar-podman.gz" || fail "two 4628 builds give other payloads"
# The layout systemd-repart writes for a sysext: root, root-verity, root-verity-sig (x86-64).
sfdisk --json "$ddi" >"$WORK/layout.json" || fail "sfdisk cannot read the disk image"
python3 - "$WORK/layout.json" <<'PY' || fail "partitions: $(cat "$WORK/layout.json")"
import json, sys
parts = json.load(open(sys.argv[1]))["partitiontable"]["partitions"]
assert [p["type"].lower() for p in parts] == ["4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
    "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5", "41092b05-9fc8-4523-994f-2def0408b176"], parts
PY
systemd-dissect --json=short "$ddi" >"$WORK/dissect.json" || fail "systemd-dissect failed on the disk image"
python3 - "$WORK/dissect.json" "$roothash" <<'PY' || fail "systemd-dissect: $(cat "$WORK/dissect.json")"
import json, sys
d = json.load(open(sys.argv[1]))
m = {x["designator"]: x for x in d["mounts"]}
assert set(m) == {"root", "root-verity", "root-verity-sig"}, m
assert m["root"]["fstype"] == "erofs" and m["root"]["architecture"] == "x86-64", m
assert m["root"]["partition_uuid"].replace("-", "") == sys.argv[2][:32], m
assert m["root-verity"]["fstype"] == "DM_verity_hash", m
PY
part() { # part N OUT: partition N of the disk image
    local start size
    read -r start size < <(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["partitiontable"]["partitions"][int(sys.argv[2])]; print(p["start"], p["size"])' "$WORK/layout.json" "$1")
    dd if="$ddi" of="$2" bs=512 skip="$start" count="$size" status=none
}
part 0 "$WORK/root.img"
part 1 "$WORK/verity.img"
veritysetup verify "$WORK/root.img" "$WORK/verity.img" "$roothash" || fail "veritysetup rejects the verity partition"
# Without device-mapper here systemd-dissect cannot set up the disk image's
# dm-verity; it mounts the root partition (the booted guest of boot_host.sh
# mounts the signed EROFS disk image itself).
unshare -m bash -c 'mkdir -p "$1/mnt" && systemd-dissect --mount "$1/root.img" "$1/mnt" && findmnt -no FSTYPE "$1/mnt" &&
    cat "$1/mnt/usr/lib/extension-release.d/extension-release.flatcar-podman"' _ "$WORK" >"$WORK/mounted.txt" ||
    fail "systemd-dissect cannot mount the root partition"
grep -qx erofs "$WORK/mounted.txt" && grep -qx VERSION_ID=4628.0.0 "$WORK/mounted.txt" ||
    fail "systemd-dissect --mount: $(cat "$WORK/mounted.txt")"
out=$(fsck.erofs "$WORK/root.img" 2>&1) || fail "fsck.erofs rejects the root partition: $out"
sb=$(dump.erofs -s "$WORK/root.img")
grep -q 'Filesystem features:.*0padding.*big_pcluster' <<<"$sb" || fail "not an LZ4 image with 64K pclusters: $sb"
rm -rf "$WORK/ex"
fsck.erofs --extract="$WORK/ex" "$WORK/root.img" >/dev/null 2>&1 || fail "fsck.erofs --extract"
rel=$(cat "$WORK/ex/usr/lib/extension-release.d/extension-release.flatcar-podman")
grep -qx ID=flatcar <<<"$rel" && grep -qx VERSION_ID=4628.0.0 <<<"$rel" || fail "release: $rel"
cmp "$WORK/ex/usr/bin/podman" "$root/usr/bin/podman" || fail "usr/bin/podman differs in the EROFS image"
[ ! -e "$WORK/ex/usr/bin/not-podman" ] && [ ! -e "$WORK/ex/etc" ] || fail "the EROFS image holds what select leaves out"
# The payload is made of the signed disk image: the independent reader rebuilds it byte for byte.
pay=$WORK/e1/flatcar-podman.gz
openssl pkeyutl -sign -inkey "$WORK/k1.pem" -pkeyopt digest:sha256 -in "$pay.hash" -out "$WORK/esig1"
openssl pkeyutl -sign -inkey "$WORK/k2.pem" -pkeyopt digest:sha256 -in "$pay.hash" -out "$WORK/esig2"
"$SYSEXT_BUILD" -q payload attach "$pay" --signature "$WORK/esig1" --signature "$WORK/esig2" -o "$WORK/esigned.gz"
/usr/bin/python3 "$SOURCE_DIR/tests/tools/payload_reader.py" verify "$WORK/esigned.gz" --pubkey "$WORK/k2.pub" \
    --out "$WORK/erebuilt.raw" >/dev/null || fail "the independent reader rejects the EROFS disk image's payload"
cmp "$ddi" "$WORK/erebuilt.raw" || fail "the payload does not rebuild the EROFS disk image"
for v in 4757.1.0 10000.0.0; do
    "$SYSEXT_BUILD" --json podman --target flatcar --set "root=$root" --set os_version=$v --set version=5.4.2 \
        -o "$WORK/v$v" "${keys[@]}" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["format"]=="erofs" and d["packing"]["disk_image"], d' ||
        fail "os_version $v is not an EROFS disk image"
done

step "a flag overrides the release's choice: --format squashfs for 4628, --format erofs for 4593"
"$SYSEXT_BUILD" -q podman --target flatcar --set "root=$root" --set os_version=4628.0.0 --set version=5.4.2 \
    -o "$WORK/sq" --format squashfs
unsquashfs -s "$WORK/sq/flatcar-podman.raw" | grep -q "Compression zstd" || fail "--format squashfs: not a zstd squashfs"
"$SYSEXT_BUILD" -q podman --target flatcar --set "root=$root" --set os_version=4593.2.5 --set version=5.4.2 \
    -o "$WORK/er" --format erofs
out=$(fsck.erofs "$WORK/er/flatcar-podman.raw" 2>&1) || fail "--format erofs for 4593: $out"
grep -q '"format": "erofs"' "$WORK/er/flatcar-podman.lock.json" || fail "the lock does not record erofs"

step "a missing variable is a usage error naming it"
expect_fail "needs --set os_version=VALUE" "$SYSEXT_BUILD" podman --target flatcar --set "root=$root" --set version=1 -o "$WORK/x"
echo "build_flatcar_target: ok"

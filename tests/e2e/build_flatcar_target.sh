#!/usr/bin/env bash
# profiles/podman.json's flatcar target: the extension taken from a root that
# Flatcar's SDK installed packages into (here a small stand-in root with the
# same paths), named flatcar-podman, with ID=flatcar and the given VERSION_ID.
# Judged by unsquashfs and systemd-dissect.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/flatcar_sdk_root.sh"
require_tool unsquashfs systemd-dissect
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

step "a missing variable is a usage error naming it"
expect_fail "needs --set os_version=VALUE" "$SYSEXT_BUILD" podman --target flatcar --set "root=$root" --set version=1 -o "$WORK/x"
echo "build_flatcar_target: ok"

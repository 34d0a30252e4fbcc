#!/usr/bin/env bash
# tools/release-assets, the release workflow's last step: release directories
# of two architectures flattened into one directory of assets whose SHA256SUMS
# sha256sum -c accepts and lists every image; per-build files are prefixed with
# the release name; running again against the published SHA256SUMS is
# accepted; an asset published earlier with other bytes is refused.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool sha256sum

mkdir -p "$WORK/tree/usr/bin"
printf '#!/bin/sh\necho hello\n' >"$WORK/tree/usr/bin/hello"
chmod 755 "$WORK/tree/usr/bin/hello"
for arch in x86-64 arm64; do
    "$SYSEXT_BUILD" -q build --download-cache "$BUILD_CACHE" "$SOURCE_DIR/profiles/my-files.json" \
        --set root="$WORK/tree" --set version=1.0 --arch "$arch" -o "$WORK/out-$arch" \
        --release-dir "$WORK/releases" --base-url http://127.0.0.1:1/x 2>/dev/null
done

step "flatten two releases"
"$SOURCE_DIR/tools/release-assets" "$WORK/releases" "$WORK/assets" >/dev/null
(cd "$WORK/assets" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c in the assets"
for f in my-files-1.0-x86-64.raw my-files-1.0-arm64.raw my-files.conf sysext-update-my-files.timer my-files-1.0-arm64.manifest.json \
    my-files-1.0-x86-64.my-files.flatcar.bu my-files-1.0-x86-64.lock.json; do
    grep -q "  $f\$" "$WORK/assets/SHA256SUMS" || fail "SHA256SUMS does not list $f: $(cat "$WORK/assets/SHA256SUMS")"
done
[ "$(wc -l <"$WORK/assets/SHA256SUMS")" -eq "$(ls "$WORK/assets" | grep -vxc SHA256SUMS)" ] || fail "SHA256SUMS and the files disagree"

step "again, against what is published: accepted, nothing changes"
cp "$WORK/assets/SHA256SUMS" "$WORK/published"
"$SOURCE_DIR/tools/release-assets" "$WORK/releases" "$WORK/assets2" "$WORK/published" >/dev/null
cmp "$WORK/assets/SHA256SUMS" "$WORK/assets2/SHA256SUMS" || fail "a second run changed SHA256SUMS"

step "a name published with other bytes is refused"
sed -i "s|^[0-9a-f]*  my-files-1.0-arm64.raw\$|$(printf '%064d' 0)  my-files-1.0-arm64.raw|" "$WORK/published"
expect_fail "my-files-1.0-arm64.raw: already published with other bytes" \
    "$SOURCE_DIR/tools/release-assets" "$WORK/releases" "$WORK/assets3" "$WORK/published"
echo "ok"

#!/usr/bin/env bash
# build --arch _any (issue 12): architecture-independent content (scripts,
# data) as one image for every architecture: no ARCHITECTURE= in its release
# file, merged by systemd-sysext where the same content built for another
# architecture is refused; an ELF
# file, a Debian source, --ddi and --release-dir are refused with the reason.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
source "$(dirname "$0")/lib/sysext_root.sh"
require_tool systemd-sysext unshare unsquashfs
cd "$WORK"
mkdir -p root/usr/share/tool root/usr/bin
echo data >root/usr/share/tool/data
printf '#!/bin/sh\necho hello\n' >root/usr/bin/hello
chmod 755 root/usr/bin/hello
mf=$SOURCE_DIR/profiles/my-files.json

step "scripts and data: no ARCHITECTURE= in the release file"
build "$mf" --set root="$WORK/root" --set version=1.0 --arch _any -o out >/dev/null
release=$(image_file out/my-files.raw usr/lib/extension-release.d/extension-release.my-files)
grep -q "^ARCHITECTURE=" <<<"$release" && fail "an _any image names an architecture: $release"
grep -qx "ID=_any" <<<"$release" || fail "release: $release"

step "systemd-sysext merges it here, where the same content built for arm64 is refused"
make_root host-any out/my-files.raw ID=debian VERSION_ID=13
[ "$(merges host-any usr/bin/hello)" = merged ] || fail "systemd-sysext refused the _any image"
[ "$(uname -m)" = x86_64 ] || fail "this test expects an x86-64 machine"
build "$mf" --set root="$WORK/root" --set version=1.0 --arch arm64 -o out-arm64 >/dev/null
make_root host-arm64 out-arm64/my-files.raw ID=debian VERSION_ID=13
[ "$(merges host-arm64 usr/bin/hello)" = refused ] || fail "systemd-sysext merged an arm64 image on x86-64"

step "what an image for any architecture cannot be"
cp /usr/bin/true root/usr/bin/true
expect_exit 3 "usr/bin/true: an ELF file in an image for any architecture (--arch _any); build it for each architecture" \
    "$SYSEXT_BUILD" build "$mf" --set root="$WORK/root" --set version=1.0 --arch _any -o out-elf
rm root/usr/bin/true
"$SYSEXT_BUILD" -q keygen -o keys
expect_exit 2 "--ddi: a disk image's partition types name an architecture" \
    "$SYSEXT_BUILD" build "$mf" --set root="$WORK/root" --set version=1.0 --arch _any -o out-ddi \
    --key keys/development.key --cert keys/development.crt --ddi
expect_exit 2 "--release-dir: releases are named NAME-VERSION-ARCH for systemd-sysupdate" \
    "$SYSEXT_BUILD" build "$mf" --set root="$WORK/root" --set version=1.0 --arch _any -o out-rel \
    --release-dir rel
cat >deb.json <<'EOF'
{ "name": "debtool",
  "targets": { "any": { "release": { "ID": "_any" }, "requires": ["version"],
    "sources": [{ "type": "debian", "packages": ["hello"], "suite": "trixie",
                  "mirror": "http://127.0.0.1:9/debian" }] } } }
EOF
expect_exit 2 "a debian source needs an architecture; --arch _any is for architecture-independent content" \
    "$SYSEXT_BUILD" build deb.json --set version=1.0 --arch _any -o out-deb
echo "PASS"

#!/usr/bin/env bash
# sysext-build pack, judged by systemd and the kernel: systemd-dissect recognises
# the image as a system extension, and systemd-sysext merges it (the kernel's
# squashfs driver reading our bytes) into a test root whose os-release matches, so
# that the static binary in it runs under chroot and the merged files equal the
# tree; roots whose os-release does not match refuse the image.
# Merging happens in a private mount namespace (see /work/shared/testing-here.md);
# systemd-sysext may exit 0 without merging, so the result is checked, not the code.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
source "$(dirname "$0")/lib/sysext_root.sh"
require_tool systemd-sysext systemd-dissect unshare chroot python3 getcap

case $(uname -m) in
x86_64) arch=x86-64 ;;
aarch64) arch=arm64 ;;
*) fail "no systemd architecture name known for $(uname -m)" ;;
esac

tree=$WORK/tree
make_tree "$tree"
image=$WORK/e2e.raw
step "pack with generated extension-release (ID=e2etest, VERSION_ID=1, $arch)"
"$SYSEXT_BUILD" pack "$tree" -o "$image" --name e2e --os-id e2etest --os-version-id 1 --arch "$arch"

step "systemd-dissect reports a system extension"
systemd-dissect --json=short "$image" >"$WORK/dissect.json"
python3 - "$WORK/dissect.json" "$(stat -c %s "$image")" "$arch" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
size, arch = int(sys.argv[2]), sys.argv[3]
def need(cond, what):
    if not cond:
        sys.exit(f"systemd-dissect: {what}: {json.dumps(d)}")
need(d["name"] == "e2e.raw", "name")
need(d["size"] == size, "size")
need(d["useSystemExtension"] is True, "not usable as a system extension")
rel = d["extensionRelease"]
need("ID=e2etest" in rel, "extension-release lacks ID=e2etest")
need("VERSION_ID=1" in rel, "extension-release lacks VERSION_ID=1")
need(f"ARCHITECTURE={arch}" in rel, f"extension-release lacks ARCHITECTURE={arch}")
need([m["fstype"] for m in d["mounts"]] == ["squashfs"], "not one squashfs file system")
EOF

step "a root with matching os-release runs the merged binary"
make_root "$WORK/root-ok" "$image" ID=e2etest VERSION_ID=1
out=$(merged "$WORK/root-ok" '
    chroot "$0" /'"$TREE_HELLO"'
    diff -r --no-dereference --exclude=fifo "$0/usr/share/sysext-e2e" "'"$tree"'/usr/share/sysext-e2e" >&2
    diff -r --no-dereference --exclude=.systemd-sysext "$0/opt" "'"$tree"'/opt" >&2
    getcap "$0/'"$TREE_CAPFILE"'"
    test -p "$0/usr/share/sysext-e2e/fifo" && echo fifo-ok
    stat -c %a "$0/usr/share/sysext-e2e/setuid"') || fail "merged tree differs from the source tree"
echo "$out"
case $out in
"$TREE_HELLO_OUT"*) ;;
*) fail "the merged binary did not run: $out" ;;
esac
echo "$out" | grep -q 'cap_net_raw[=+]ep' || fail "capability not visible through the kernel's squashfs"
echo "$out" | grep -qx fifo-ok || fail "FIFO not visible"
echo "$out" | grep -qx 4755 || fail "setuid bit not visible"
[ ! -e "$WORK/root-ok/$TREE_HELLO" ] || fail "the merge leaked out of its mount namespace"

# A refused image leaves /usr as it was: the binary is absent.
for mismatch in "ID=otheros VERSION_ID=1" "ID=e2etest VERSION_ID=2"; do
    step "a root with os-release $mismatch refuses the image"
    root=$WORK/root-${mismatch// /-}
    # shellcheck disable=SC2086
    make_root "$root" "$image" $mismatch
    [ "$(merges "$root" "$TREE_HELLO")" = refused ] || fail "image merged into a root with os-release $mismatch"
done
echo "PASS"

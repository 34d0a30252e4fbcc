#!/usr/bin/env bash
# The extension-release file pack generates from its flags, read back by a
# shell (os-release files are shell-sourceable by design), by systemd-dissect,
# and obeyed by systemd-sysext: SYSEXT_LEVEL, scope, architecture and _any decide
# which roots merge the image. Also the --json summary against sha256sum and stat.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
source "$(dirname "$0")/lib/sysext_root.sh"
require_tool unsquashfs systemd-dissect systemd-sysext python3 sha256sum

case $(uname -m) in
x86_64) arch=x86-64 other_arch=arm64 ;;
aarch64) arch=arm64 other_arch=x86-64 ;;
*) fail "no systemd architecture name known for $(uname -m)" ;;
esac
tree=$WORK/tree
mkdir -p "$tree/usr/bin"
cp "$(hello_binary)" "$tree/$TREE_HELLO"
rel=usr/lib/extension-release.d/extension-release.e2e

step "every release flag lands in extension-release.e2e"
image=$(image_path all-flags)
"$SYSEXT_BUILD" pack "$tree" -o "$image" --name e2e --os-id debian --os-version-id 12 \
    --sysext-level 1.0 --arch "$arch" --reload-manager --scope "system portable" \
    --release SYSEXT_VERSION_ID=5.4.2 --release 'SYSEXT_NAME=Podman for "Flatcar" $HOME'
unsquashfs -cat "$image" "$rel" >"$WORK/release"
cat "$WORK/release"
got=$(env -i sh -c '. "$0" && printf "%s|" "$ID" "$VERSION_ID" "$SYSEXT_LEVEL" "$ARCHITECTURE" \
    "$EXTENSION_RELOAD_MANAGER" "$SYSEXT_SCOPE" "$SYSEXT_VERSION_ID" "$SYSEXT_NAME"' "$WORK/release")
want="debian|12|1.0|$arch|1|system portable|5.4.2|Podman for \"Flatcar\" \$HOME|"
[ "$got" = "$want" ] || fail "release file read by sh: $got, want $want"
unsquashfs -lln "$image" | grep -q "^-rw-r--r-- 0/0 .* squashfs-root/$rel$" ||
    fail "release file is not 0644 root:root: $(unsquashfs -lln "$image" | grep extension-release)"
# The generated file and the directories created for it carry the epoch too.
want_time=$(TZ=UTC date -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M')
wrong=$(TZ=UTC unsquashfs -lln "$image" | awk -v t="$want_time" '$4 " " $5 != t')
[ -z "$wrong" ] || fail "entries whose mtime is not $want_time:
$wrong"
systemd-dissect --json=short "$image" | python3 -c '
import json, sys
rel = json.load(sys.stdin)["extensionRelease"]
for want in ("ID=debian", "VERSION_ID=12", "SYSEXT_LEVEL=1.0", "EXTENSION_RELOAD_MANAGER=1"):
    if want not in rel:
        sys.exit(f"systemd-dissect does not see {want}: {rel}")
'

step "--json prints a summary that agrees with sha256sum and stat"
image=$(image_path json)
"$SYSEXT_BUILD" --json pack "$tree" -o "$image" --name e2e --os-id _any >"$WORK/summary.json"
python3 - "$WORK/summary.json" "$image" "$(sha256sum "$image" | cut -d' ' -f1)" "$(stat -c %s "$image")" <<'EOF'
import json, sys
summary = json.load(open(sys.argv[1]))  # stdout must be nothing but the JSON
image, sha, size = sys.argv[2], sys.argv[3], int(sys.argv[4])
if summary.get("sha256") != sha:
    sys.exit(f"summary sha256 {summary.get('sha256')} != sha256sum {sha}")
if summary.get("size") != size:
    sys.exit(f"summary size {summary.get('size')} != {size}")
if summary.get("name") != "e2e":
    sys.exit(f"summary name {summary.get('name')}")
EOF

# verdict CASE ROOT-OS-RELEASE-LINES... : packs nothing, merges the image built
# for CASE into a fresh root and prints merged/refused.
verdict() {
    local case=$1
    shift
    local root=$WORK/roots/$case-$RANDOM
    make_root "$root" "$(image_path "$case")" "$@"
    merges "$root" "$TREE_HELLO"
}
expect() {
    local want=$1 what=$2 got
    shift 2
    got=$(verdict "$@")
    [ "$got" = "$want" ] || fail "$what: want $want, got $got"
    echo "$what: $got"
}

step "systemd-sysext obeys SYSEXT_LEVEL, scope, architecture and _any"
"$SYSEXT_BUILD" pack "$tree" -o "$(image_path level)" --name e2e --os-id e2etest --sysext-level 1.0
expect merged "same SYSEXT_LEVEL, other VERSION_ID" level ID=e2etest VERSION_ID=99 SYSEXT_LEVEL=1.0
expect refused "other SYSEXT_LEVEL" level ID=e2etest VERSION_ID=99 SYSEXT_LEVEL=2.0
"$SYSEXT_BUILD" pack "$tree" -o "$(image_path any)" --name e2e --os-id _any
expect merged "ID=_any" any ID=whatever VERSION_ID=7
"$SYSEXT_BUILD" pack "$tree" -o "$(image_path initrd)" --name e2e --os-id _any --scope initrd
expect refused "SYSEXT_SCOPE=initrd on a booted system" initrd ID=whatever
"$SYSEXT_BUILD" pack "$tree" -o "$(image_path arch)" --name e2e --os-id _any --arch "$other_arch"
expect refused "ARCHITECTURE=$other_arch on $(uname -m)" arch ID=whatever
"$SYSEXT_BUILD" pack "$tree" -o "$(image_path own-arch)" --name e2e --os-id _any --arch "$arch"
expect merged "ARCHITECTURE=$arch on $(uname -m)" own-arch ID=whatever
echo "PASS"

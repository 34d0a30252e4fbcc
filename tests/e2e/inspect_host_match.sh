#!/usr/bin/env bash
# `inspect --os-release` against systemd-sysext itself: for each pair of
# extension-release fields and host os-release, inspect's verdict (merges or
# skips) must be what systemd-sysext does when it merges the image into a
# scratch root with that os-release.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/sysext_root.sh"
require_tool systemd-sysext unshare python3

case $(uname -m) in
x86_64) arch=x86-64 other=arm64 ;;
aarch64) arch=arm64 other=x86-64 ;;
*) fail "no systemd architecture name known for $(uname -m)" ;;
esac

mkdir -p "$WORK/tree/usr/share/hostmatch"
echo marker >"$WORK/tree/usr/share/hostmatch/marker"

# case NAME "PACK FLAGS" "HOST OS-RELEASE LINES (;-separated)" EXPECTED
agree=0
check_case() {
    local name=$1 flags=$2 host=$3 expected=$4
    local dir=$WORK/$name image root verdict systemd
    mkdir -p "$dir"
    image=$dir/hostmatch.raw
    # shellcheck disable=SC2086
    "$SYSEXT_BUILD" -q pack "$WORK/tree" -o "$image" $flags
    root=$dir/root
    IFS=';' read -r -a lines <<<"$host"
    make_root "$root" "$image" "${lines[@]}"
    verdict=$("$SYSEXT_BUILD" --json inspect "$image" --os-release "$root/usr/lib/os-release" --host-arch "$arch" |
        python3 -c 'import json,sys; h=json.load(sys.stdin)["host"]; print("merged" if h["accepted"] else "refused", "|", h["reason"])') || true
    [ -n "$verdict" ] || fail "$name: inspect printed no host verdict"
    systemd=$(merges "$root" usr/share/hostmatch/marker)
    echo "  $name: systemd $systemd, inspect ${verdict}"
    [ "${verdict%% |*}" = "$systemd" ] || fail "$name: inspect says ${verdict%% |*}, systemd-sysext $systemd"
    [ "$systemd" = "$expected" ] || fail "$name: expected systemd to say $expected (the case is wrong)"
    agree=$((agree + 1))
}

step "inspect and systemd-sysext agree"
check_case any "--os-id _any" "ID=debian;VERSION_ID=12" merged
check_case same-version "--os-id debian --os-version-id 12" "ID=debian;VERSION_ID=12" merged
check_case other-version "--os-id debian --os-version-id 13" "ID=debian;VERSION_ID=12" refused
check_case other-id "--os-id fedora --os-version-id 41" "ID=debian;VERSION_ID=12" refused
check_case level-only-host-without-level "--os-id debian --sysext-level 1.0" "ID=debian;VERSION_ID=12" refused
check_case level-equal "--os-id flatcar --sysext-level 1.0" "ID=flatcar;VERSION_ID=4152.2.0;SYSEXT_LEVEL=1.0" merged
check_case level-differs "--os-id flatcar --sysext-level 2.0 --os-version-id 4152.2.0" "ID=flatcar;VERSION_ID=4152.2.0;SYSEXT_LEVEL=1.0" refused
check_case rolling-host "--os-id arch" "ID=arch" merged
check_case other-arch "--os-id _any --arch $other" "ID=debian;VERSION_ID=12" refused
check_case same-arch "--os-id debian --os-version-id 12 --arch $arch" "ID=debian;VERSION_ID=12" merged
check_case initrd-only "--os-id _any --scope initrd" "ID=debian;VERSION_ID=12" refused

step "the reason names the rule"
mkdir -p "$WORK/f"
"$SYSEXT_BUILD" -q pack "$WORK/tree" -o "$WORK/f/hostmatch.raw" --os-id fedora --os-version-id 41
printf 'ID=debian\nVERSION_ID=12\n' >"$WORK/os-release"
rc=0
out=$("$SYSEXT_BUILD" inspect "$WORK/f/hostmatch.raw" --os-release "$WORK/os-release" 2>&1) || rc=$?
[ "$rc" -eq 4 ] || fail "a skipped image must exit 4, got $rc"
case $out in *"ID=fedora, but the host is ID=debian"*) ;; *) fail "no reason in: $out" ;; esac
echo "inspect_host_match: $agree cases agree with systemd-sysext"

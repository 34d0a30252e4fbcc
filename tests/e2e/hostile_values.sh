#!/usr/bin/env bash
# Values that reach generated files (the release file, SHA256SUMS, the
# transfer INI file, the Butane YAML) are held to their readers' rules:
# a quote, a newline, whitespace or an uppercase os-release value is refused
# with exit 2 or 3 and a message, and nothing is written under the final names.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool unsquashfs

tree=$WORK/tree
mkdir -p "$tree/usr/bin"
printf '#!/bin/sh\necho hi\n' >"$tree/usr/bin/hi"
chmod 755 "$tree/usr/bin/hi"
mkdir -p "$WORK/out"

exit_of() { local rc=0; "$@" >/dev/null 2>&1 || rc=$?; echo "$rc"; }

step "pack: os-release values systemd would read otherwise are refused (exit 3)"
for v in $'13"\nID=fedora' '13 beta' 'Thirteen'; do
    expect_fail "is not a valid os-release VERSION_ID" \
        "$SYSEXT_BUILD" pack "$tree" -o "$WORK/out/hi.raw" --os-id debian --os-version-id "$v"
    [ "$(exit_of "$SYSEXT_BUILD" pack "$tree" -o "$WORK/out/hi.raw" --os-id debian --os-version-id "$v")" = 3 ] ||
        fail "--os-version-id $(printf %q "$v"): not exit 3"
    [ ! -e "$WORK/out/hi.raw" ] || fail "an image was written for --os-version-id $(printf %q "$v")"
done
expect_fail "is not a valid os-release ID" "$SYSEXT_BUILD" pack "$tree" -o "$WORK/out/hi.raw" --os-id 'Debian'
expect_fail "value of SYSEXT_NAME holds a control character" \
    "$SYSEXT_BUILD" pack "$tree" -o "$WORK/out/hi.raw" --os-id _any --release $'SYSEXT_NAME=a\nID=x'

step "build --release-dir: a newline in the version or the base URL is refused (exit 2)"
profile=$SOURCE_DIR/profiles/my-files.json
rc=$(exit_of build "$profile" --set root="$tree" --set $'version=1.0\nx: y' -o "$WORK/b1" --release-dir "$WORK/rel")
[ "$rc" = 2 ] || fail "a newline in the version: exit $rc, not 2"
expect_fail "is not usable in a release name" build "$profile" --set root="$tree" --set $'version=1.0\nx: y' \
    -o "$WORK/b1" --release-dir "$WORK/rel"
for url in $'http://127.0.0.1/x\n[Target]\nPath=/etc' 'http://127.0.0.1/a b' 'ftp://host/x' 'http://h/"x'; do
    rc=$(exit_of build "$profile" --set root="$tree" --set version=1.0 -o "$WORK/b2" --release-dir "$WORK/rel" --base-url "$url")
    [ "$rc" = 2 ] || fail "--base-url $(printf %q "$url"): exit $rc, not 2"
done
expect_fail "not a plain http://, https:// or file:/// URL" build "$profile" --set root="$tree" \
    --set version=1.0 -o "$WORK/b2" --release-dir "$WORK/rel" --base-url $'http://h/x\n[Target]'
[ ! -e "$WORK/rel/any/my-files-1.0-x86-64" ] || fail "a release was published for a hostile base URL"

step "a URL's %20 stays %20 for systemd-sysupdate (specifiers escaped)"
build "$profile" --set root="$tree" --set version=1.0 -o "$WORK/b3" --release-dir "$WORK/rel" \
    --base-url 'https://example.org/my%20files' >/dev/null
grep -qx 'Path=https://example.org/my%%20files/' "$WORK/rel/any/my-files-1.0-x86-64/my-files.conf" ||
    fail "Path= not escaped: $(cat "$WORK/rel/any/my-files-1.0-x86-64/my-files.conf")"
echo PASS

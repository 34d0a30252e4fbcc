#!/usr/bin/env bash
# Extended attributes from a source: security.capability and user.* reach the
# image; trusted.overlay.* (and other trusted.*) never do, with a warning that
# names the entry. Merged as systemd-sysext merges, an image packed from a tree
# whose usr/lib carries trusted.overlay.opaque must not hide the host's
# /usr/lib: the host's files stay visible next to the extension's.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/sysext_root.sh"
require_tool setfattr getfattr setcap getcap unsquashfs systemd-sysext unshare

src=$WORK/src
mkdir -p "$src/usr/lib/hostile" "$src/usr/bin"
printf '#!/bin/sh\necho hi\n' >"$src/usr/bin/tool"
chmod 755 "$src/usr/bin/tool"
echo data >"$src/usr/lib/hostile/file"
setcap cap_net_bind_service+ep "$src/usr/bin/tool"
setfattr -n user.note -v kept "$src/usr/bin/tool"
setfattr -n trusted.overlay.opaque -v y "$src/usr/lib"
setfattr -n trusted.overlay.redirect -v /etc "$src/usr/lib/hostile"
setfattr -n trusted.other -v x "$src/usr/lib/hostile/file"
getfattr --absolute-names -n trusted.overlay.opaque "$src/usr/lib" >/dev/null 2>&1 ||
    fail "this filesystem does not keep trusted.* attributes; the test cannot set up its input"

step "pack drops trusted.* with a warning naming each entry"
mkdir -p "$WORK/out"
"$SYSEXT_BUILD" pack "$src" -o "$WORK/out/x.raw" --os-id _any >"$WORK/pack.log" 2>&1 ||
    fail "pack failed: $(cat "$WORK/pack.log")"
grep -q "dropped extended attributes" "$WORK/pack.log" || fail "no warning: $(cat "$WORK/pack.log")"
for want in '"usr/lib": "trusted.overlay.opaque"' '"usr/lib/hostile": "trusted.overlay.redirect"' \
            '"usr/lib/hostile/file": "trusted.other"'; do
    grep -qF "$want" <(sed 's/ (from [^)]*)//' "$WORK/pack.log") || fail "warning lacks $want: $(cat "$WORK/pack.log")"
done

step "unsquashfs: no trusted.* in the image; the capability and user.* kept"
unsquashfs -q -d "$WORK/x" "$WORK/out/x.raw" >/dev/null
if getfattr --absolute-names -R -d -m - "$WORK/x" 2>/dev/null | grep -q '^trusted\.'; then
    fail "trusted.* attributes in the image: $(getfattr --absolute-names -R -d -m - "$WORK/x")"
fi
getcap "$WORK/x/usr/bin/tool" | grep -q cap_net_bind_service || fail "security.capability lost"
[ "$(getfattr --absolute-names --only-values -n user.note "$WORK/x/usr/bin/tool")" = kept ] || fail "user.note lost"

step "merged by systemd-sysext, the host's /usr/lib stays visible"
make_root "$WORK/root" "$WORK/out/x.raw" ID=debian VERSION_ID=13
echo host >"$WORK/root/usr/lib/host-file"
got=$(merged "$WORK/root" 'test -e "$0/usr/lib/hostile/file" && echo merged; test -e "$0/usr/lib/host-file" && echo host-visible; true')
grep -qx merged <<<"$got" || fail "the image was not merged: $got"
grep -qx host-visible <<<"$got" || fail "the merged image hides the host's /usr/lib"
echo PASS

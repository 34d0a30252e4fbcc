#!/usr/bin/env bash
# sysext-build pack, judged by squashfs-tools: `unsquashfs -d` of our image gives
# back the source tree (contents, types, modes, link targets, hard links, xattrs,
# capabilities, holes), owners become root:root unless --keep-owners, every mtime
# is SOURCE_DATE_EPOCH, and rdsquashfs shows identical data stored once and where
# fragments go.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool unsquashfs rdsquashfs getfattr getcap diff

tree=$WORK/tree
make_tree "$tree" --release e2e:_any
chown 1234:5678 "$tree/usr/share/sysext-e2e/text.txt"
chown -h 4321:8765 "$tree/usr/share/sysext-e2e/hello-abs"
chown 99:99 "$tree/usr/share/sysext-e2e/a"

image=$(image_path default)
owners=$(image_path owners)
noxattr=$(image_path noxattr)
tailpacked=$(image_path tail-packing)

step "pack the tree"
"$SYSEXT_BUILD" pack "$tree" -o "$image" --name e2e
size=$(stat -c %s "$image")
[ $((size % 4096)) -eq 0 ] || fail "image size $size is not a multiple of 4096"

step "unsquashfs -d gives back the tree"
unsquashfs -no-progress -d "$WORK/out" "$image" >/dev/null
# diff cannot compare FIFOs; the listing below checks that it is one.
diff -r --no-dereference --exclude=fifo "$tree" "$WORK/out" || fail "unpacked contents differ from the tree"
# Owners become 0:0; everything else in the listing must match exactly.
tree_listing "$tree" | sed -E 's/\|[0-9]+:[0-9]+(\||$)/|0:0\1/' >"$WORK/want.list"
tree_listing "$WORK/out" >"$WORK/got.list"
diff -u "$WORK/want.list" "$WORK/got.list" || fail "types, modes, owners or links differ"
grep -q "^usr/share/sysext-e2e/setuid|f|4755|" "$WORK/got.list" || fail "setuid bit lost"
grep -q "^usr/share/sysext-e2e/sticky|d|1777|" "$WORK/got.list" || fail "sticky bit lost"
grep -q "^usr/share/sysext-e2e/$TREE_LONGNAME|f|" "$WORK/got.list" || fail "255-byte name lost"
grep -q "^usr/share/sysext-e2e/fifo|p|" "$WORK/got.list" || fail "FIFO lost"

step "extended attributes and the file capability survive"
tree_xattrs "$tree" >"$WORK/want.xattr"
tree_xattrs "$WORK/out" >"$WORK/got.xattr"
grep -q user.sysext-e2e "$WORK/want.xattr" || fail "test tree lacks its xattrs"
diff -u "$WORK/want.xattr" "$WORK/got.xattr" || fail "xattrs differ"
getcap "$WORK/out/$TREE_CAPFILE" | grep -q 'cap_net_raw[=+]ep' ||
    fail "capability lost: $(getcap "$WORK/out/$TREE_CAPFILE")"

step "hard links share one inode, the sparse file keeps its holes"
[ "$(stat -c %i "$WORK/out/$TREE_HARD1")" = "$(stat -c %i "$WORK/out/$TREE_HARD2")" ] ||
    fail "hard link pair unpacked as two inodes"
rdsquashfs -s "/$TREE_HARD1" "$image" | grep -q '^Hard link count: 2$' ||
    fail "hard link count in the image is not 2"
allocated=$(du -k "$WORK/out/$TREE_SPARSE" | cut -f1)
[ "$allocated" -lt 2048 ] || fail "sparse file unpacked with ${allocated} KiB allocated"

step "every mtime is SOURCE_DATE_EPOCH"
times=$(find "$WORK/out" -printf '%T@\n' | sort -u)
[ "$times" = "$SOURCE_DATE_EPOCH.0000000000" ] || fail "mtimes in the image: $times"
want_time=$(TZ=UTC date -d "@$SOURCE_DATE_EPOCH" '+%a %b %e %H:%M:%S %Y')
got_time=$(TZ=UTC unsquashfs -s "$image" | sed -n 's/^Creation or last append time //p')
[ "$got_time" = "$want_time" ] || fail "superblock time is $got_time, want $want_time"

step "identical data is stored once; small files share fragments"
placement() { rdsquashfs -s "/usr/share/sysext-e2e/$1" "$2" | grep -E '^(Blocks start|Block count|Fragment index|Fragment offset):'; }
[ "$(placement twin-a.bin "$image")" = "$(placement twin-b.bin "$image")" ] || fail "identical files stored twice"
[ "$(placement small-twin-a "$image")" = "$(placement small-twin-b "$image")" ] || fail "identical small files stored twice"
placement text.txt "$image" | grep -q 'Fragment index: 0xFFFFFFFF' && fail "a small file is not in a fragment block"

step "tails of large files: own block by default (as mksquashfs), fragments with --tail-packing"
placement three-blocks-and-a-tail.bin "$image" | grep -qx 'Fragment index: 0xFFFFFFFF' ||
    fail "default: the tail of a multi-block file went into a fragment: $(placement three-blocks-and-a-tail.bin "$image")"
"$SYSEXT_BUILD" pack "$tree" -o "$tailpacked" --name e2e --tail-packing
placement three-blocks-and-a-tail.bin "$tailpacked" | grep -q 'Fragment index: 0xFFFFFFFF' &&
    fail "--tail-packing: the tail of a multi-block file is not in a fragment"
unsquashfs -no-progress -d "$WORK/out-tail" "$tailpacked" >/dev/null
diff -r --no-dereference --exclude=fifo "$tree" "$WORK/out-tail" || fail "--tail-packing image unpacks differently"

step "--keep-owners keeps the owners"
"$SYSEXT_BUILD" pack "$tree" -o "$owners" --name e2e --keep-owners
unsquashfs -no-progress -d "$WORK/out-owners" "$owners" >/dev/null
tree_listing "$WORK/out-owners" >"$WORK/got-owners.list"
diff -u <(tree_listing "$tree") "$WORK/got-owners.list" || fail "--keep-owners changed owners"

step "--no-xattrs drops every xattr"
"$SYSEXT_BUILD" pack "$tree" -o "$noxattr" --name e2e --no-xattrs
unsquashfs -no-progress -d "$WORK/out-noxattr" "$noxattr" >/dev/null
[ -z "$(tree_xattrs "$WORK/out-noxattr")" ] || fail "--no-xattrs image still has xattrs"
echo "PASS"

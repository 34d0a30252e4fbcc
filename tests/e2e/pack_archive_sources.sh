#!/usr/bin/env bash
# A directory and an archive of the same tree give byte-identical images. The
# archives come from the everyday tools (GNU tar without --sort, so entries are in
# readdir order; zstd, gzip, xz; cpio; Info-ZIP), not from us.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool tar zstd gzip xz cpio zip cmp sqfsdiff unsquashfs

pack() { mkdir -p "$(dirname "$2")"; "$SYSEXT_BUILD" pack "$1" -o "$2" --name e2e "${@:3}"; }
same() {
    local a b
    a=$(basename "$(dirname "$1")")
    b=$(basename "$(dirname "$2")")
    cmp "$1" "$2" || fail "the image from $b differs from the one from $a; sqfsdiff --timestamps says:
$(sqfsdiff --timestamps -a "$1" -b "$2")"
    echo "image from $b: same bytes as from $a"
}

step "full tree with xattrs and capability: directory vs tar --xattrs"
make_tree "$WORK/full" --release e2e:_any
pack "$WORK/full" "$WORK/images/full-dir/e2e.raw"
tar --xattrs --xattrs-include='*' -C "$WORK/full" -cf "$WORK/full.tar" .
pack "$WORK/full.tar" "$WORK/images/full-tar/e2e.raw"
same "$WORK/images/full-dir/e2e.raw" "$WORK/images/full-tar/e2e.raw"

step "tree without xattrs: directory vs plain tar, tar without ./, pax tar, compressed tars, cpio"
make_tree "$WORK/plain" --no-xattrs --release e2e:_any
pack "$WORK/plain" "$WORK/images/plain-dir/e2e.raw"
tar -C "$WORK/plain" -cf "$WORK/plain.tar" .
tar -C "$WORK/plain" -cf "$WORK/no-dot.tar" usr opt
# POSIX (pax) format stores the UTF-8 names as UTF-8 path records.
tar --format=posix -C "$WORK/plain" -cf "$WORK/posix.tar" .
zstd -q -T2 -3 -c "$WORK/plain.tar" >"$WORK/plain.tar.zst"
gzip -1 -c "$WORK/plain.tar" >"$WORK/plain.tar.gz"
xz -0 -T2 -c "$WORK/plain.tar" >"$WORK/plain.tar.xz"
(cd "$WORK/plain" && find . | cpio --quiet -o -H newc >"$WORK/plain.cpio")
for a in plain.tar no-dot.tar posix.tar plain.tar.zst plain.tar.gz plain.tar.xz plain.cpio; do
    pack "$WORK/$a" "$WORK/images/$a/e2e.raw"
    same "$WORK/images/plain-dir/e2e.raw" "$WORK/images/$a/e2e.raw"
done
# An archive's name need not say what it is: libarchive reads the bytes.
cp "$WORK/plain.tar.zst" "$WORK/disguised.bin"
pack "$WORK/disguised.bin" "$WORK/images/disguised/e2e.raw"
same "$WORK/images/plain-dir/e2e.raw" "$WORK/images/disguised/e2e.raw"

step "what zip can carry: directory vs zip"
make_tree "$WORK/portable" --portable --release e2e:_any
pack "$WORK/portable" "$WORK/images/portable-dir/e2e.raw"
(cd "$WORK/portable" && zip -q -r -y "$WORK/portable.zip" .)
pack "$WORK/portable.zip" "$WORK/images/portable-zip/e2e.raw"
same "$WORK/images/portable-dir/e2e.raw" "$WORK/images/portable-zip/e2e.raw"

step "directories an archive only implies get mode 0755 and the epoch"
(cd "$WORK/plain" && find . ! -type d -print0 | tar --null --no-recursion -T - -cf "$WORK/files-only.tar")
pack "$WORK/files-only.tar" "$WORK/images/files-only/e2e.raw"
listing=$(TZ=UTC unsquashfs -lln "$WORK/images/files-only/e2e.raw")
want_time=$(TZ=UTC date -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M')
wrong=$(awk -v t="$want_time" '$4 " " $5 != t' <<<"$listing")
[ -z "$wrong" ] || fail "entries whose mtime is not $want_time:
$wrong"
wrong=$(awk '/^d/ && $1 != "drwxr-xr-x"' <<<"$listing")
[ -z "$wrong" ] || fail "implied directories whose mode is not 0755:
$wrong"

step "the archive images are valid: unsquashfs gives back the tree"
unsquashfs -no-progress -d "$WORK/out" "$WORK/images/plain.tar.zst/e2e.raw" >/dev/null
diff -r --no-dereference --exclude=fifo "$WORK/plain" "$WORK/out" || fail "unpacked tar image differs from the tree"
diff -u <(tree_listing "$WORK/plain") <(tree_listing "$WORK/out") || fail "types, modes or links differ"
echo "PASS"

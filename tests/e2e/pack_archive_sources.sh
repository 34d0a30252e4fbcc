# A directory and an archive of the same tree give byte-identical images. The
# archives come from the everyday tools (GNU tar without --sort, so entries are in
# readdir order; zstd, gzip, xz; cpio; Info-ZIP), not from us.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool tar zstd gzip xz cpio zip cmp

pack() { "$SYSEXT_BUILD" pack "$1" -o "$2" --name e2e "${@:3}"; }
same() {
    cmp "$1" "$2" || fail "$(basename "$2") differs from $(basename "$1")"
    echo "$(basename "$2"): same bytes as $(basename "$1")"
}

step "full tree with xattrs and capability: directory vs tar --xattrs"
make_tree "$WORK/full" --release e2e:_any
pack "$WORK/full" "$WORK/full-dir.raw"
tar --xattrs --xattrs-include='*' -C "$WORK/full" -cf "$WORK/full.tar" .
pack "$WORK/full.tar" "$WORK/full-tar.raw"
same "$WORK/full-dir.raw" "$WORK/full-tar.raw"

step "tree without xattrs: directory vs plain tar, compressed tars, tar without ./, cpio"
make_tree "$WORK/plain" --no-xattrs --release e2e:_any
pack "$WORK/plain" "$WORK/plain-dir.raw"
tar -C "$WORK/plain" -cf "$WORK/plain.tar" .
tar -C "$WORK/plain" -cf "$WORK/no-dot.tar" usr opt
zstd -q -T2 -3 -c "$WORK/plain.tar" >"$WORK/plain.tar.zst"
gzip -1 -c "$WORK/plain.tar" >"$WORK/plain.tar.gz"
xz -0 -T2 -c "$WORK/plain.tar" >"$WORK/plain.tar.xz"
(cd "$WORK/plain" && find . | cpio --quiet -o -H newc >"$WORK/plain.cpio")
for a in plain.tar no-dot.tar plain.tar.zst plain.tar.gz plain.tar.xz plain.cpio; do
    pack "$WORK/$a" "$WORK/$a.raw"
    same "$WORK/plain-dir.raw" "$WORK/$a.raw"
done
# An archive's name need not say what it is: libarchive reads the bytes.
cp "$WORK/plain.tar.zst" "$WORK/disguised.bin"
pack "$WORK/disguised.bin" "$WORK/disguised.raw"
same "$WORK/plain-dir.raw" "$WORK/disguised.raw"

step "what zip can carry: directory vs zip"
make_tree "$WORK/portable" --portable --release e2e:_any
pack "$WORK/portable" "$WORK/portable-dir.raw"
(cd "$WORK/portable" && zip -q -r -y "$WORK/portable.zip" .)
pack "$WORK/portable.zip" "$WORK/portable-zip.raw"
same "$WORK/portable-dir.raw" "$WORK/portable-zip.raw"

step "the archive images are valid: unsquashfs gives back the tree"
unsquashfs -no-progress -d "$WORK/out" "$WORK/plain.tar.zst.raw" >/dev/null
diff -r --no-dereference --exclude=fifo "$WORK/plain" "$WORK/out" || fail "unpacked tar image differs from the tree"
diff -u <(tree_listing "$WORK/plain") <(tree_listing "$WORK/out") || fail "types, modes or links differ"
echo "PASS"

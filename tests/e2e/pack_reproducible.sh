# Same input, same bytes (cmp): packing twice, with 1 and with 2 threads, to
# another output name, from a copy of the tree with other mtimes, and with
# --mtime instead of SOURCE_DATE_EPOCH. A different time gives different bytes,
# and without either the time is 0.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool cmp unsquashfs

tree=$WORK/tree
make_tree "$tree" --release e2e:_any
pack() { "$SYSEXT_BUILD" pack "$1" -o "$2" --name e2e "${@:3}"; }

step "pack twice, with --jobs 1 and --jobs 2"
pack "$tree" "$WORK/a.raw"
pack "$tree" "$WORK/b.raw"
cmp "$WORK/a.raw" "$WORK/b.raw" || fail "two runs gave different bytes"
pack "$tree" "$WORK/j1.raw" --jobs 1
pack "$tree" "$WORK/j2.raw" --jobs 2
cmp "$WORK/a.raw" "$WORK/j1.raw" || fail "--jobs 1 gave different bytes"
cmp "$WORK/a.raw" "$WORK/j2.raw" || fail "--jobs 2 gave different bytes"
# At a fast level the writer, not the compressor, dominates: threads race more.
pack "$tree" "$WORK/fast-j1.raw" --jobs 1 --compression zstd:1
pack "$tree" "$WORK/fast-j2.raw" --jobs 2 --compression zstd:1
pack "$tree" "$WORK/fast-j4.raw" --jobs 4 --compression zstd:1
cmp "$WORK/fast-j1.raw" "$WORK/fast-j2.raw" || fail "zstd:1 with 1 and 2 jobs differ"
cmp "$WORK/fast-j1.raw" "$WORK/fast-j4.raw" || fail "zstd:1 with 1 and 4 jobs differ"

step "the output name, the working directory and source mtimes do not matter"
mkdir "$WORK/elsewhere"
(cd "$WORK/elsewhere" && pack ../tree other-name.raw)
cmp "$WORK/a.raw" "$WORK/elsewhere/other-name.raw" || fail "output name or cwd changed the bytes"
cp -a "$tree" "$WORK/copy"
find "$WORK/copy" -exec touch -h -d '2001-02-03 04:05:06' {} +
pack "$WORK/copy" "$WORK/copy.raw"
cmp "$WORK/a.raw" "$WORK/copy.raw" || fail "a copy of the tree with other mtimes gave different bytes"

step "--mtime equals SOURCE_DATE_EPOCH; another time changes the bytes"
env -u SOURCE_DATE_EPOCH "$SYSEXT_BUILD" pack "$tree" -o "$WORK/flag.raw" --name e2e --mtime "$SOURCE_DATE_EPOCH"
cmp "$WORK/a.raw" "$WORK/flag.raw" || fail "--mtime $SOURCE_DATE_EPOCH differs from SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
SOURCE_DATE_EPOCH=1600000000 pack "$tree" "$WORK/other-time.raw"
cmp -s "$WORK/a.raw" "$WORK/other-time.raw" && fail "a different SOURCE_DATE_EPOCH gave the same bytes"
env -u SOURCE_DATE_EPOCH "$SYSEXT_BUILD" pack "$tree" -o "$WORK/zero.raw" --name e2e
[ "$(TZ=UTC unsquashfs -s "$WORK/zero.raw" | sed -n 's/^Creation or last append time //p')" = "Thu Jan  1 00:00:00 1970" ] ||
    fail "without SOURCE_DATE_EPOCH the superblock time is not 0"
times=$(TZ=UTC unsquashfs -lln "$WORK/zero.raw" | awk '{print $4 " " $5}' | sort -u)
[ "$times" = "1970-01-01 00:00" ] || fail "without SOURCE_DATE_EPOCH the mtimes are not 0: $times"
echo "PASS"

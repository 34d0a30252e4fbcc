#!/usr/bin/env bash
# Same input, same bytes (cmp): packing twice, with 1 and with 2 threads, to
# another output name, from a copy of the tree with other mtimes, and with
# --mtime instead of SOURCE_DATE_EPOCH. A different time gives different bytes,
# and without either the time is 0.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool cmp unsquashfs
[ "$SOURCE_DATE_EPOCH" = 1700000000 ] || fail "this test assumes SOURCE_DATE_EPOCH=1700000000"

tree=$WORK/tree
make_tree "$tree" --release e2e:_any
pack() { mkdir -p "$(dirname "$2")"; "$SYSEXT_BUILD" pack "$1" -o "$2" --name e2e "${@:3}"; }

step "pack twice, with --jobs 1 and --jobs 2"
pack "$tree" "$WORK/images/a/e2e.raw"
pack "$tree" "$WORK/images/b/e2e.raw"
cmp "$WORK/images/a/e2e.raw" "$WORK/images/b/e2e.raw" || fail "two runs gave different bytes"
pack "$tree" "$WORK/images/j1/e2e.raw" --jobs 1
pack "$tree" "$WORK/images/j2/e2e.raw" --jobs 2
cmp "$WORK/images/a/e2e.raw" "$WORK/images/j1/e2e.raw" || fail "--jobs 1 gave different bytes"
cmp "$WORK/images/a/e2e.raw" "$WORK/images/j2/e2e.raw" || fail "--jobs 2 gave different bytes"
# At a fast level the writer, not the compressor, dominates: threads race more.
pack "$tree" "$WORK/images/fast-j1/e2e.raw" --jobs 1 --compression zstd:1
pack "$tree" "$WORK/images/fast-j2/e2e.raw" --jobs 2 --compression zstd:1
pack "$tree" "$WORK/images/fast-j4/e2e.raw" --jobs 4 --compression zstd:1
cmp "$WORK/images/fast-j1/e2e.raw" "$WORK/images/fast-j2/e2e.raw" || fail "zstd:1 with 1 and 2 jobs differ"
cmp "$WORK/images/fast-j1/e2e.raw" "$WORK/images/fast-j4/e2e.raw" || fail "zstd:1 with 1 and 4 jobs differ"

step "the output path, the working directory and source mtimes do not matter"
mkdir "$WORK/elsewhere"
(cd "$WORK/elsewhere" && pack ../tree e2e.sysext.raw)
cmp "$WORK/images/a/e2e.raw" "$WORK/elsewhere/e2e.sysext.raw" || fail "output path or cwd changed the bytes"
cp -a "$tree" "$WORK/copy"
find "$WORK/copy" -exec touch -h -d '2001-02-03 04:05:06' {} +
pack "$WORK/copy" "$WORK/images/copy/e2e.raw"
cmp "$WORK/images/a/e2e.raw" "$WORK/images/copy/e2e.raw" || fail "a copy of the tree with other mtimes gave different bytes"

step "--mtime equals SOURCE_DATE_EPOCH; another time changes the bytes"
(unset SOURCE_DATE_EPOCH && pack "$tree" "$WORK/images/flag/e2e.raw" --mtime 1700000000)
cmp "$WORK/images/a/e2e.raw" "$WORK/images/flag/e2e.raw" || fail "--mtime 1700000000 differs from SOURCE_DATE_EPOCH=1700000000"
SOURCE_DATE_EPOCH=1600000000 pack "$tree" "$WORK/images/other-time/e2e.raw"
cmp -s "$WORK/images/a/e2e.raw" "$WORK/images/other-time/e2e.raw" && fail "a different SOURCE_DATE_EPOCH gave the same bytes"
(unset SOURCE_DATE_EPOCH && pack "$tree" "$WORK/images/zero/e2e.raw")
[ "$(TZ=UTC unsquashfs -s "$WORK/images/zero/e2e.raw" | sed -n 's/^Creation or last append time //p')" = "Thu Jan  1 00:00:00 1970" ] ||
    fail "without SOURCE_DATE_EPOCH the superblock time is not 0"
times=$(TZ=UTC unsquashfs -lln "$WORK/images/zero/e2e.raw" | awk '{print $4 " " $5}' | sort -u)
[ "$times" = "1970-01-01 00:00" ] || fail "without SOURCE_DATE_EPOCH the mtimes are not 0: $times"
echo "PASS"

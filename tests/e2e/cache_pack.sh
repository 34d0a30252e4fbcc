#!/usr/bin/env bash
# The block cache never changes an image (cmp): packing with no cache, a cold
# cache, a warm one, and one whose entries were damaged (a flipped byte, a
# truncation, another entry's bytes) gives the same bytes, and unsquashfs
# extracts the tree unchanged. The cache is on by default under XDG_CACHE_HOME;
# `cache stats --json` and `cache prune --cache-max-size` judged with python3 and du.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool cmp unsquashfs /usr/bin/python3 diff
cd "$WORK"

make_tree tree --release e2e:_any
# Text that compresses, in blocks and in fragments, beside make_tree's content.
mkdir -p tree/usr/share/doc-copy
cp -r "$SOURCE_DIR/src" tree/usr/share/doc-copy/
flags=(--name e2e --compression zstd:12 --block-size 64K)
# pack LABEL FLAGS...: packs into LABEL/e2e.raw (the file name must be the
# extension's name), the JSON report into LABEL.json.
pack() {
    mkdir -p "$1"
    "$SYSEXT_BUILD" --json pack tree -o "$1/e2e.raw" "${flags[@]}" "${@:2}" >"$1.json"
}
field() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

step "no cache, a cold cache, a warm cache: the same bytes"
pack plain --no-cache
[ "$(field plain.json "'cache' in d")" = False ] || fail "--no-cache still reported a cache"
[ ! -e xdg-cache ] || fail "--no-cache created $WORK/xdg-cache"
pack cold --cache-dir cache
cmp plain/e2e.raw cold/e2e.raw || fail "a cold cache changed the image"
# make_tree's twin files share blocks: the second twin hits the first's entries.
stored=$(field cold.json "d['cache']['stored']")
lookups=$(field cold.json "d['cache']['hits'] + d['cache']['misses']")
[ "$stored" = "$(field cold.json "d['cache']['misses']")" ] || fail "a cold miss was not stored"
[ "$stored" -gt 10 ] || fail "the cold pack stored only $stored blocks"
pack warm --cache-dir cache
cmp plain/e2e.raw warm/e2e.raw || fail "a warm cache changed the image"
[ "$(field warm.json "d['cache']['misses']")" = 0 ] || fail "a warm cache had misses: $(cat warm.json)"
[ "$(field warm.json "d['cache']['hits']")" = "$lookups" ] || fail "a warm pack did not hit every block"

step "the default cache lives under XDG_CACHE_HOME"
pack default
cmp plain/e2e.raw default/e2e.raw || fail "the default cache changed the image"
[ "$(field default.json "d['cache']['dir']")" = "$WORK/xdg-cache/sysext-build/blocks" ] ||
    fail "default cache dir: $(field default.json "d['cache']['dir']")"
[ -n "$(find xdg-cache/sysext-build/blocks -type f)" ] || fail "nothing stored in the default cache"

step "damaged entries are ignored, never copied into the image"
mapfile -t entries < <(find cache -type f -name '[0-9a-f]*' | sort)
[ "${#entries[@]}" -ge 6 ] || fail "too few entries to damage: ${#entries[@]}"
for i in "${!entries[@]}"; do
    e=${entries[$i]}
    size=$(stat -c %s "$e")
    case $((i % 3)) in
    0) # flip the last byte: the value, or for an empty value its hash
        /usr/bin/python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[-1]^=1; open(p,"wb").write(b)' "$e" ;;
    1) truncate -s $((size / 2)) "$e" ;;
    2) cp "${entries[$(((i + 1) % ${#entries[@]}))]}" "$e" ;;
    esac
done
pack damaged --cache-dir cache
cmp plain/e2e.raw damaged/e2e.raw || fail "a damaged cache changed the image"
[ "$(field damaged.json "d['cache']['damaged']")" -ge "${#entries[@]}" ] ||
    fail "not every damaged entry was noticed: $(cat damaged.json)"
unsquashfs -no-progress -d out damaged/e2e.raw >/dev/null
# diff cannot compare FIFOs (make_tree has one, named fifo).
diff -r --no-dereference --exclude=fifo tree out >/dev/null || fail "the tree extracted from the image differs"
pack repaired --cache-dir cache
cmp plain/e2e.raw repaired/e2e.raw || fail "the repaired cache changed the image"
[ "$(field repaired.json "d['cache']['misses']")" = 0 ] || fail "damaged entries were not replaced"

step "a changed file reuses every other block"
echo "changed" >>tree/usr/share/doc-copy/src/cli/main.cpp
pack changed --cache-dir cache
pack changed-plain --no-cache
cmp changed/e2e.raw changed-plain/e2e.raw || fail "after a change, cache and no cache differ"
hits=$(field changed.json "d['cache']['hits']")
misses=$(field changed.json "d['cache']['misses']")
[ "$hits" -gt "$misses" ] || fail "a one-file change missed $misses blocks and hit only $hits"

step "another level does not reuse entries"
# Whether twin blocks hit within one pack depends on timing, so count keys:
# every key of a zstd:11 pack is new to a cache holding zstd:12 entries.
count_entries() { find "$1" -type f -name '[0-9a-f]*' | wc -l; }
pack8() {
    mkdir -p "$1"
    "$SYSEXT_BUILD" --json pack tree -o "$1/e2e.raw" --name e2e --compression zstd:11 \
        --block-size 64K --cache-dir "$2" >"$1.json"
}
pack8 level8-alone cache8
before=$(count_entries cache)
pack8 level8 cache
[ $(($(count_entries cache) - before)) = "$(count_entries cache8)" ] ||
    fail "zstd:11 reused zstd:12 entries: $(cat level8.json)"
cmp level8-alone/e2e.raw level8/e2e.raw || fail "zstd:11 packs differ"

step "cache stats --json, cache prune --cache-max-size"
"$SYSEXT_BUILD" --json cache stats --cache-dir cache >stats.json
entries_now=$(field stats.json "d['entries']")
bytes_now=$(field stats.json "d['bytes']")
[ "$entries_now" = "$(find cache -type f -name '[0-9a-f]*' | wc -l)" ] || fail "stats: wrong entry count"
[ "$bytes_now" = "$(find cache -type f -name '[0-9a-f]*' -printf '%s\n' | awk '{s+=$1} END {print s}')" ] ||
    fail "stats: wrong byte count"
bound=$((bytes_now / 3))
"$SYSEXT_BUILD" --json cache prune --cache-dir cache --cache-max-size "$bound" >prune.json
left=$(find cache -type f -name '[0-9a-f]*' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
[ "$left" -le "$bound" ] || fail "prune left $left bytes, bound $bound"
[ "$left" -gt 0 ] || fail "prune removed everything for a bound of $bound"
[ "$(field prune.json "d['after']['bytes']")" = "$left" ] || fail "prune reported a wrong size"
pack after-prune --cache-dir cache
cmp changed-plain/e2e.raw after-prune/e2e.raw || fail "a pruned cache changed the image"
pack bounded --cache-dir cache --cache-max-size 100K
left=$(find cache -type f -name '[0-9a-f]*' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
[ "$left" -le 102400 ] || fail "--cache-max-size 100K left $left bytes"
expect_fail "--cache-max-size: not a size" "$SYSEXT_BUILD" pack tree -o x/e2e.raw --name e2e --cache-max-size lots

step "fast settings skip the cache unless --cache asks"
mkdir -p fast fast-forced
"$SYSEXT_BUILD" --json pack tree -o fast/e2e.raw --name e2e --compression zstd:3 --cache-dir fast-cache >fast.json
[ "$(field fast.json "d['cache']['stored']")" = 0 ] || fail "zstd:3 stored blocks by default: $(cat fast.json)"
"$SYSEXT_BUILD" --json pack tree -o fast-forced/e2e.raw --name e2e --compression zstd:3 --cache-dir fast-cache --cache >forced.json
[ "$(field forced.json "d['cache']['stored']")" -gt 10 ] || fail "--cache stored nothing at zstd:3: $(cat forced.json)"
cmp fast/e2e.raw fast-forced/e2e.raw || fail "--cache changed the zstd:3 image"
expect_fail "excludes" "$SYSEXT_BUILD" pack tree -o x/e2e.raw --name e2e --cache --no-cache

step "an unwritable cache warns and packs all the same"
echo "a file" >not-a-dir
mkdir unwritable
"$SYSEXT_BUILD" pack tree -o unwritable/e2e.raw "${flags[@]}" --cache-dir not-a-dir/cache 2>unwritable.err >/dev/null
cmp changed-plain/e2e.raw unwritable/e2e.raw || fail "an unwritable cache changed the image"
grep -q "could not be stored in the cache" unwritable.err || fail "no warning: $(cat unwritable.err)"
echo "PASS"

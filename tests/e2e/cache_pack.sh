#!/usr/bin/env bash
# The block cache never changes an image (cmp): packing with no cache, a cold
# cache, a warm one, and one whose entries were damaged (a flipped byte, a
# truncation, another entry's bytes) gives the same bytes, and unsquashfs
# extracts the tree unchanged. The cache is on by default under XDG_CACHE_HOME;
# `cache stats --json` and `cache prune --max-size` judged with python3 and du.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool cmp unsquashfs /usr/bin/python3 diff
cd "$WORK"

make_tree tree --release e2e:_any
# Text that compresses, in blocks and in fragments, beside make_tree's content.
mkdir -p tree/usr/share/doc-copy
cp -r "$SOURCE_DIR/src" tree/usr/share/doc-copy/
flags=(--name e2e --compression zstd:9 --block-size 64K)
pack() { "$SYSEXT_BUILD" --json pack tree -o "$1" "${flags[@]}" "${@:2}" >"$1.json"; }
field() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

step "no cache, a cold cache, a warm cache: the same bytes"
pack plain.raw --no-cache
[ "$(field plain.raw.json "'cache' in d")" = False ] || fail "--no-cache still reported a cache"
[ ! -e xdg-cache ] || fail "--no-cache created $WORK/xdg-cache"
pack cold.raw --cache-dir cache
cmp plain.raw cold.raw || fail "a cold cache changed the image"
[ "$(field cold.raw.json "d['cache']['hits']")" = 0 ] || fail "a cold cache had hits"
stored=$(field cold.raw.json "d['cache']['stored']")
[ "$stored" -gt 10 ] || fail "the cold pack stored only $stored blocks"
pack warm.raw --cache-dir cache
cmp plain.raw warm.raw || fail "a warm cache changed the image"
[ "$(field warm.raw.json "d['cache']['misses']")" = 0 ] || fail "a warm cache had misses: $(cat warm.raw.json)"
[ "$(field warm.raw.json "d['cache']['hits']")" = "$stored" ] || fail "a warm pack did not hit every block"

step "the default cache lives under XDG_CACHE_HOME"
pack default.raw
cmp plain.raw default.raw || fail "the default cache changed the image"
[ "$(field default.raw.json "d['cache']['dir']")" = "$WORK/xdg-cache/sysext-build/blocks" ] ||
    fail "default cache dir: $(field default.raw.json "d['cache']['dir']")"
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
pack damaged.raw --cache-dir cache
cmp plain.raw damaged.raw || fail "a damaged cache changed the image"
[ "$(field damaged.raw.json "d['cache']['hits']")" = 0 ] || fail "a damaged entry was used: $(cat damaged.raw.json)"
[ "$(field damaged.raw.json "d['cache']['damaged']")" -ge "${#entries[@]}" ] ||
    fail "not every damaged entry was noticed: $(cat damaged.raw.json)"
unsquashfs -no-progress -d out damaged.raw >/dev/null
# diff cannot compare FIFOs (make_tree has one, named fifo).
diff -r --no-dereference --exclude=fifo tree out >/dev/null || fail "the tree extracted from the image differs"
pack repaired.raw --cache-dir cache
cmp plain.raw repaired.raw || fail "the repaired cache changed the image"
[ "$(field repaired.raw.json "d['cache']['misses']")" = 0 ] || fail "damaged entries were not replaced"

step "a changed file reuses every other block"
echo "changed" >>tree/usr/share/doc-copy/src/cli/main.cpp
pack changed.raw --cache-dir cache
pack changed-plain.raw --no-cache
cmp changed.raw changed-plain.raw || fail "after a change, cache and no cache differ"
hits=$(field changed.raw.json "d['cache']['hits']")
misses=$(field changed.raw.json "d['cache']['misses']")
[ "$hits" -gt "$misses" ] || fail "a one-file change missed $misses blocks and hit only $hits"

step "another level does not reuse entries"
pack other-level.raw --cache-dir cache --compression zstd:8
[ "$(field other-level.raw.json "d['cache']['hits']")" = 0 ] || fail "zstd:8 reused zstd:9 entries"

step "cache stats --json, cache prune --max-size"
"$SYSEXT_BUILD" --json cache stats --cache-dir cache >stats.json
entries_now=$(field stats.json "d['entries']")
bytes_now=$(field stats.json "d['bytes']")
[ "$entries_now" = "$(find cache -type f -name '[0-9a-f]*' | wc -l)" ] || fail "stats: wrong entry count"
[ "$bytes_now" = "$(find cache -type f -name '[0-9a-f]*' -printf '%s\n' | awk '{s+=$1} END {print s}')" ] ||
    fail "stats: wrong byte count"
bound=$((bytes_now / 3))
"$SYSEXT_BUILD" --json cache prune --cache-dir cache --max-size "$bound" >prune.json
left=$(find cache -type f -name '[0-9a-f]*' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
[ "$left" -le "$bound" ] || fail "prune left $left bytes, bound $bound"
[ "$left" -gt 0 ] || fail "prune removed everything for a bound of $bound"
[ "$(field prune.json "d['after']['bytes']")" = "$left" ] || fail "prune reported a wrong size"
pack after-prune.raw --cache-dir cache
cmp plain.raw after-prune.raw || fail "a pruned cache changed the image"
pack bounded.raw --cache-dir cache --cache-max-size 100K
left=$(find cache -type f -name '[0-9a-f]*' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
[ "$left" -le 102400 ] || fail "--cache-max-size 100K left $left bytes"
expect_fail "--cache-max-size: not a size" "$SYSEXT_BUILD" pack tree -o x.raw --name e2e --cache-max-size lots

step "an unwritable cache warns and packs all the same"
echo "a file" >not-a-dir
"$SYSEXT_BUILD" pack tree -o unwritable.raw "${flags[@]}" --cache-dir not-a-dir/cache 2>unwritable.err >/dev/null
cmp plain.raw unwritable.raw || fail "an unwritable cache changed the image"
grep -q "could not be stored in the cache" unwritable.err || fail "no warning: $(cat unwritable.err)"
echo "PASS"

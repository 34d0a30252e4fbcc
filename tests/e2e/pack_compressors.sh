# Every compressor and level form, and non-default block sizes, give images that
# unsquashfs reads back to the tree and that say in their superblock what was
# asked for; a higher level gives a smaller image of compressible data.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool unsquashfs diff

tree=$WORK/tree
make_tree "$tree" --release e2e:_any

# check IMAGE COMPRESSOR BLOCK_SIZE: superblock fields and unpacked contents.
check() {
    local super
    super=$(unsquashfs -s "$1")
    grep -qx "Compression $2" <<<"$super" || fail "$1: want compression $2, superblock says: $super"
    grep -qx "Block size $3" <<<"$super" || fail "$1: want block size $3, superblock says: $super"
    local size
    size=$(stat -c %s "$1")
    [ $((size % 4096)) -eq 0 ] || fail "$1: size $size is not a multiple of 4096"
    rm -rf "$WORK/out"
    unsquashfs -no-progress -d "$WORK/out" "$1" >/dev/null || fail "unsquashfs rejects $1"
    diff -r --no-dereference --exclude=fifo "$tree" "$WORK/out" || fail "$1: unpacked contents differ"
    diff -u <(tree_listing "$tree") <(tree_listing "$WORK/out") || fail "$1: types, modes or links differ"
}

for spec in zstd zstd:1 zstd:22 xz xz:9 gzip gzip:1 gzip:9 lz4 lz4:hc; do
    step "--compression $spec"
    image=$WORK/${spec/:/-}.raw
    "$SYSEXT_BUILD" pack "$tree" -o "$image" --name e2e --compression "$spec"
    check "$image" "${spec%%:*}" 131072
done

step "block sizes 4K and 1M"
"$SYSEXT_BUILD" pack "$tree" -o "$WORK/b4k.raw" --name e2e --block-size 4K
check "$WORK/b4k.raw" zstd 4096
"$SYSEXT_BUILD" pack "$tree" -o "$WORK/b1m.raw" --name e2e --block-size 1M --compression xz
check "$WORK/b1m.raw" xz 1048576

step "the level is applied"
mkdir -p "$WORK/text/usr/share/doc"
seq 1 300000 | sed 's/$/ some words that repeat in a text/' >"$WORK/text/usr/share/doc/words"
mkdir -p "$WORK/text/usr/lib/extension-release.d"
echo ID=_any >"$WORK/text/usr/lib/extension-release.d/extension-release.e2e"
for pair in "zstd:1 zstd:19" "gzip:1 gzip:9" "lz4 lz4:hc"; do
    set -- $pair
    "$SYSEXT_BUILD" pack "$WORK/text" -o "$WORK/low.raw" --name e2e --compression "$1"
    "$SYSEXT_BUILD" pack "$WORK/text" -o "$WORK/high.raw" --name e2e --compression "$2"
    low=$(stat -c %s "$WORK/low.raw")
    high=$(stat -c %s "$WORK/high.raw")
    echo "$1: $low bytes, $2: $high bytes"
    [ "$high" -lt "$low" ] || fail "$2 ($high bytes) is not smaller than $1 ($low bytes)"
done
echo "PASS"

#!/usr/bin/env bash
# sysext-build pack --format erofs, judged by erofs-utils and the kernel:
# fsck.erofs checks every image and extracts it, dump.erofs describes the
# superblock and inodes, a loop mount by the kernel's EROFS is compared entry
# by entry with the source tree (contents, types, modes, owners, link targets,
# hard links as one inode, xattrs, the file capability, mtimes), and
# systemd-sysext merges the image. Uncompressed, LZ4 (4 KiB pclusters: full
# indexes; 1 MiB) and LZ4HC images (64 KiB: compact indexes), with and
# without tail packing (files' ends after their inodes); zstd and LZMA
# images, which the erofs-utils here (1.5) cannot read, are judged by the
# kernel alone (the loop mount: this kernel has CONFIG_EROFS_FS_ZIP_ZSTD and
# _LZMA), and so are images with fragments (--fragments: files' ends and
# small files in one packed inode); the same bytes for
# any --jobs and from a directory or a tar of it.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
source "$(dirname "$0")/lib/sysext_root.sh"
require_tool fsck.erofs dump.erofs getfattr getcap diff tar unshare mount systemd-sysext python3
[ "$(id -u)" = 0 ] || fail "needs root for the loop mount"

tree=$WORK/tree
make_tree "$tree" --release e2e:_any
chown 1234:5678 "$tree/usr/share/sysext-e2e/text.txt"
s=$tree/usr/share/sysext-e2e
# Beyond make_tree: a directory of several blocks, names sorting before "."
# and "..", a file over two 4 MiB segments, a symlink too long to be inline.
mkdir -p "$s/many"
for i in $(seq 1 400); do echo "$i" >"$s/many/entry-with-a-longish-name-$i"; done
echo bang >"$s/many/!bang"
echo plus >"$s/many/+plus"
seq 1 1500000 >"$s/segments.txt"
ln -s "$(printf 'x%.0s' {1..4000})" "$s/long-link"
# Text, then incompressible bytes: the last compressed extent ends inside an
# lcluster and the plain rest reaches into the next one, which the kernel
# maps up to that lcluster's end (a plain extent may not be mapped longer
# than its block: the writer ends it at the boundary).
python3 -c '
import random, sys
text = b"".join(b"line %d\n" % (i % 10) for i in range(700))[:5000]
sys.stdout.buffer.write(text + random.Random(5).randbytes(7300))' >"$s/plain-end.bin"

# judge IMAGE OWNERS [kernel-only]: fsck, extraction and a loop mount against
# the tree; OWNERS "root" expects 0:0 everywhere, "kept" the tree's owners.
judge() {
    local image=$1 owners=$2 out
    if [ "${3:-}" != kernel-only ]; then
        out=$(fsck.erofs "$image" 2>&1) || fail "fsck.erofs rejects $image: $out"
        rm -rf "$WORK/x"
        fsck.erofs --extract="$WORK/x" "$image" >/dev/null 2>&1 || fail "fsck.erofs --extract failed on $image"
        diff -r --no-dereference --exclude=fifo "$tree" "$WORK/x" >/dev/null ||
            fail "fsck.erofs extracts other contents than the tree: $(diff -r --no-dereference --exclude=fifo "$tree" "$WORK/x" | head -5)"
    fi
    tree_listing "$tree" >"$WORK/want.list"
    [ "$owners" = kept ] || sed -Ei 's/\|[0-9]+:[0-9]+(\||$)/|0:0\1/' "$WORK/want.list"
    tree_xattrs "$tree" >"$WORK/want.xattr"
    unshare -m bash -c '
        set -e
        mkdir -p "$1/mnt"
        mount -o loop,ro -t erofs "$2" "$1/mnt"
        cd "$1/mnt"
        find . -mindepth 1 \( -type f -printf "%P|f|%m|%U:%G|%s|%n\n" \) -o \( -type l -printf "%P|l|%U:%G|%l\n" \) -o \
            \( -type d -printf "%P|d|%m|%U:%G\n" \) -o -printf "%P|%y|%m|%U:%G\n" | LC_ALL=C sort >"$1/got.list"
        find . -mindepth 1 -print0 | LC_ALL=C sort -z | while IFS= read -r -d "" p; do
            getfattr -h -d -m - -e hex "$p" 2>/dev/null | grep -v "^$" || true
        done >"$1/got.xattr"
        find . -printf "%T@\n" | sort -u >"$1/got.times"
        diff -r --no-dereference --exclude=fifo "$4" . >"$1/got.diff" || true
        stat -c %i usr/share/sysext-e2e/hard-one usr/share/sysext-e2e/hard-two | sort -u | wc -l >"$1/got.inodes"
        getcap usr/bin/sysext-e2e-cap >"$1/got.cap"
        # Reads at random offsets: the kernel looks each up from its lcluster
        # index, not only in the order a sequential read goes.
        python3 - "$4" . >"$1/got.random" <<"PY"
import os, random, sys
rng = random.Random(16)
bad = 0
for rel in ("usr/share/sysext-e2e/segments.txt", "usr/share/sysext-e2e/compressible.txt",
            "usr/share/sysext-e2e/three-blocks-and-a-tail.bin", "usr/share/sysext-e2e/sparse.img"):
    want = open(os.path.join(sys.argv[1], rel), "rb")
    got = open(os.path.join(sys.argv[2], rel), "rb")
    size = os.path.getsize(want.name)
    for _ in range(300):
        off = rng.randrange(size)
        n = rng.randrange(1, 70000)
        want.seek(off); got.seek(off)
        if want.read(n) != got.read(n):
            bad += 1
            print(rel, off, n)
print("bad", bad)
PY
    ' _ "$WORK" "$image" "$SOURCE_DIR" "$tree" || fail "loop mount of $image failed: $(dmesg | tail -3)"
    diff -u "$WORK/want.list" "$WORK/got.list" || fail "types, modes, owners, sizes or links differ in the mount of $image"
    [ ! -s "$WORK/got.diff" ] || fail "mounted contents differ: $(head -5 "$WORK/got.diff")"
    diff -u "$WORK/want.xattr" "$WORK/got.xattr" || fail "xattrs differ in the mount of $image"
    grep -qx "bad 0" "$WORK/got.random" || fail "reads at random offsets differ: $(head -3 "$WORK/got.random")"
    [ "$(cat "$WORK/got.inodes")" = 1 ] || fail "hard link pair mounted as two inodes"
    grep -q 'cap_net_raw[=+]ep' "$WORK/got.cap" || fail "capability lost: $(cat "$WORK/got.cap")"
    [ "$(cat "$WORK/got.times")" = "$SOURCE_DATE_EPOCH.0000000000" ] || fail "mtimes: $(cat "$WORK/got.times")"
}

for c in none lz4:4K lz4:1M lz4hc:12:64K tails:lz4hc:12:64K tails:lz4:4K zstd:3:4K zstd:15:64K \
         tails:zstd:22:512K lzma:6:64K tails:lzma:9:4K frags:lz4hc:12:64K frags:lz4:4K \
         frags:tails:zstd:15:64K; do
    judges="fsck.erofs and a loop mount"
    # erofs-utils 1.5 knows neither zstd, LZMA nor fragments.
    case $c in *zstd* | *lzma* | frags:*) judges="the kernel's loop mount" ;; esac
    step "pack --format erofs $c (tails: --tail-packing, frags: --fragments), judged by $judges"
    image=$(image_path "$c")
    flags=() spec=$c
    case $spec in frags:*) flags+=(--fragments); spec=${spec#frags:} ;; esac
    case $spec in tails:*) flags+=(--tail-packing); spec=${spec#tails:} ;; esac
    [ "$c" = none ] || flags+=(--erofs-pcluster "${spec##*:}")
    "$SYSEXT_BUILD" -q pack "$tree" -o "$image" --name e2e --format erofs --compression "${spec%:*}" "${flags[@]}" --jobs 2
    size=$(stat -c %s "$image")
    [ $((size % 4096)) -eq 0 ] || fail "image size $size is not a multiple of 4096"
    # available_compr_algs (superblock byte 84) names the one algorithm:
    # LZ4 bit 0, LZMA bit 1, zstd bit 3.
    algs=$(od -An -tx2 -j $((1024 + 84)) -N2 "$image" | tr -d ' ')
    want=0001
    case $spec in none) want=0000 ;; zstd*) want=0008 ;; lzma*) want=0002 ;; esac
    [ "$algs" = "$want" ] || fail "available_compr_algs $algs in $image, want $want"
    # feature_incompat (byte 80) has FRAGMENTS (0x20) and packed_nid (byte 96)
    # names an inode exactly when --fragments was given.
    incompat=$(od -An -tu4 -j $((1024 + 80)) -N4 "$image" | tr -d ' ')
    packed=$(od -An -tu8 -j $((1024 + 96)) -N8 "$image" | tr -d ' ')
    case $c in
    frags:*) [ $((incompat & 32)) = 32 ] && [ "$packed" -gt 0 ] ||
                 fail "--fragments: incompat $incompat, packed_nid $packed" ;;
    *) [ $((incompat & 32)) = 0 ] && [ "$packed" = 0 ] || fail "fragments without --fragments" ;;
    esac
    case $judges in
    fsck*) judge "$image" root ;;
    *) judge "$image" root kernel-only ;;
    esac
done

step "--fragments: 300 small configuration files take a fraction of the room, read back by the kernel"
small=$WORK/small
mkdir -p "$small/usr/share/conf"
cp -a "$tree/usr/lib" "$small/usr/"
for i in $(seq 1 300); do
    seq "$i" $((i + 300 + i % 200)) | sed "s/^/option-$((i % 7)) = value /" >"$small/usr/share/conf/file-$i.conf"
done
sizes=()
for f in "" --fragments; do
    "$SYSEXT_BUILD" -q pack "$small" -o "$(image_path small)" --name e2e --format erofs $f
    sizes+=("$(stat -c %s "$(image_path small)")")
    unshare -m bash -c 'mkdir -p "$1/mnt-small" && mount -o loop,ro -t erofs "$2" "$1/mnt-small" &&
                        diff -r "$3/usr" "$1/mnt-small/usr"' _ "$WORK" "$(image_path small)" "$small" ||
        fail "the kernel reads other contents from the small-files image ${f:-without --fragments}"
done
echo "300 files of $(du -sb "$small/usr/share/conf" | cut -f1) bytes: ${sizes[0]} bytes, with --fragments ${sizes[1]}"
[ $((sizes[1] * 2)) -lt "${sizes[0]}" ] || fail "--fragments saved less than half: ${sizes[1]} against ${sizes[0]}"

step "dump.erofs: zero UUID, a checksum, compressed files with compact indexes"
image=$(image_path lz4hc:12:64K)
sb=$(dump.erofs -s "$image")
grep -q 'UUID: *00000000-0000-0000-0000-000000000000' <<<"$sb" || fail "UUID not zero: $sb"
grep -q 'Filesystem features:.*sb_csum' <<<"$sb" || fail "no superblock checksum: $sb"
info=$(dump.erofs --path=/usr/share/sysext-e2e/segments.txt "$image")
grep -q 'Layout: 3' <<<"$info" || fail "segments.txt not compressed with compact indexes: $info"
info=$(dump.erofs --path=/usr/share/sysext-e2e/text.txt "$image")
grep -q 'Layout: 2' <<<"$info" || fail "a small file is not stored inline: $info"
uncompressed=$(stat -c %s "$(image_path none)")
[ "$(stat -c %s "$image")" -lt "$uncompressed" ] || fail "LZ4HC image not smaller than the uncompressed one"
[ "$uncompressed" -lt $((40 * 1048576)) ] || fail "the 48 MiB sparse file takes room: $uncompressed bytes"

tails=$(image_path tails:lz4hc:12:64K)
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(0 if d[1024 + 80] & 0x10 else 1)' "$tails" ||
    fail "--tail-packing: no ZTAILPACKING feature in the superblock"
[ "$(stat -c %s "$tails")" -lt "$(stat -c %s "$image")" ] || fail "--tail-packing did not make the image smaller"

step "--keep-owners keeps the tree's owners"
image=$(image_path owners)
"$SYSEXT_BUILD" -q pack "$tree" -o "$image" --name e2e --format erofs --keep-owners
judge "$image" kept
dump.erofs --path=/usr/share/sysext-e2e/text.txt "$image" | grep -q 'Uid: 1234   Gid: 5678' ||
    fail "owner 1234:5678 not in the inode"

step "same bytes for --jobs 1 and 2, and from a tar of the tree"
one=$(image_path jobs1)
"$SYSEXT_BUILD" -q pack "$tree" -o "$one" --name e2e --format erofs --jobs 1
cmp "$one" "$(image_path lz4hc:12:64K)" || fail "--jobs 1 and --jobs 2 give different images"
tar --xattrs --xattrs-include='*' -C "$tree" -cf "$WORK/tree.tar" .
fromtar=$(image_path tar)
"$SYSEXT_BUILD" -q pack "$WORK/tree.tar" -o "$fromtar" --name e2e --format erofs --jobs 2
cmp "$fromtar" "$(image_path lz4hc:12:64K)" || fail "the tar and the directory give different images"

step "the block cache: a rebuild compresses nothing and gives the same bytes"
cached=$(image_path cached)
for run in 1 2; do
    "$SYSEXT_BUILD" --json pack "$tree" -o "$cached" --name e2e --format erofs --tail-packing \
        --cache-dir "$WORK/cache" >"$WORK/cache-$run.json"
    cmp "$cached" "$(image_path tails:lz4hc:12:64K)" || fail "run $run with the cache gives other bytes"
done
python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))["cache"]; sys.exit(0 if c["misses"] == 0 and c["hits"] > 0 else 1)' \
    "$WORK/cache-2.json" || fail "the rebuild missed the cache: $(cat "$WORK/cache-2.json")"

step "flags of the other format are refused"
expect_fail "--block-size is a squashfs setting" "$SYSEXT_BUILD" pack "$tree" -o "$WORK/e2e.raw" --format erofs --block-size 64K
expect_fail "--erofs-pcluster needs --format erofs" "$SYSEXT_BUILD" pack "$tree" -o "$WORK/e2e.raw" --erofs-pcluster 64K
expect_fail "--fragments needs --format erofs" "$SYSEXT_BUILD" pack "$tree" -o "$WORK/e2e.raw" --fragments
expect_fail "--fragments needs compression" "$SYSEXT_BUILD" pack "$tree" -o "$WORK/e2e.raw" --format erofs --compression none --fragments
expect_fail "EROFS images take none, lz4, lz4hc[:1-12], lzma[:0-9] or zstd[:1-22], not \"xz\"" "$SYSEXT_BUILD" pack "$tree" -o "$WORK/e2e.raw" --format erofs --compression xz
expect_fail "zstd levels are 1 to 22, not 23" "$SYSEXT_BUILD" pack "$tree" -o "$WORK/e2e.raw" --format erofs --compression zstd:23

step "systemd-sysext merges the EROFS image"
make_root "$WORK/root" "$(image_path lz4hc:12:64K)" ID=debian VERSION_ID=13
got=$(merged "$WORK/root" 'test -e "$0/usr/share/sysext-e2e/segments.txt" && echo merged; true')
grep -qx merged <<<"$got" || fail "systemd-sysext did not merge the EROFS image: $got"
echo PASS

#!/usr/bin/env bash
# build --format erofs (issue 16): the image of a profile as an EROFS file
# system, judged by erofs-utils (fsck.erofs checks and extracts it,
# dump.erofs shows its settings), a loop mount by the kernel compared with
# the tree, systemd-dissect (file system type erofs, the release file) and
# systemd-sysext (merged in a scratch root). The summary and --json name the
# format and its settings; the lock file records them, so `build --lock`
# alone rebuilds the same bytes, and --format beside it chooses the other
# file system with that one's defaults. Settings of the other format are
# refused by name (exit 2) and leave no image.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
source "$(dirname "$0")/lib/sysext_root.sh"
require_tool fsck.erofs dump.erofs unsquashfs systemd-dissect systemd-sysext unshare mount python3 cmp diff veritysetup
[ "$(id -u)" = 0 ] || fail "needs root for the loop mount"
cd "$WORK"
mkdir -p tree/usr/bin tree/usr/share/tool tree/opt/tool
printf '#!/bin/sh\necho tool\n' >tree/usr/bin/tool
chmod 0755 tree/usr/bin/tool
seq 1 200000 >tree/usr/share/tool/numbers.txt # compressible, several pclusters
head -c 300000 /dev/urandom >tree/usr/share/tool/random.bin
echo small >tree/usr/share/tool/small.txt
ln -s ../share/tool/small.txt tree/usr/bin/small-link
echo opt >tree/opt/tool/file
mf=$SOURCE_DIR/profiles/my-files.json

step "build --format erofs: the summary and --json name the format and its settings"
build "$mf" --set root="$WORK/tree" --set version=1.0 --format erofs --tail-packing -o a >summary.txt 2>/dev/null
grep -qE '^  format  erofs, lz4hc:12, 64K physical clusters, tail packing$' summary.txt ||
    fail "the summary does not name the format: $(cat summary.txt)"
rm -rf a
"$SYSEXT_BUILD" --json build --download-cache "$BUILD_CACHE" "$mf" --set root="$WORK/tree" --set version=1.0 \
    --format erofs --tail-packing -o a >a.json
python3 - a.json <<'PY' || fail "--json: $(cat a.json)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == "erofs", d
p = d["packing"]
assert p == {"format": "erofs", "compression": "lz4hc:12", "erofs_pcluster": 65536, "tail_packing": True,
             "fragments": False, "xattrs": True, "disk_image": False, "rule": None}, p
PY
img=a/my-files.raw

step "fsck.erofs checks and extracts it; dump.erofs shows LZ4 with big pclusters and compact indexes"
out=$(fsck.erofs "$img" 2>&1) || fail "fsck.erofs rejects the image: $out"
fsck.erofs --extract="$WORK/x" "$img" >/dev/null 2>&1 || fail "fsck.erofs --extract failed"
for d in usr/bin usr/share opt; do
    diff -r --no-dereference "tree/$d" "x/$d" >/dev/null || fail "extracted $d differs: $(diff -r --no-dereference "tree/$d" "x/$d" | head -3)"
done
grep -qx "ID=_any" x/usr/lib/extension-release.d/extension-release.my-files || fail "release file: $(cat x/usr/lib/extension-release.d/extension-release.my-files)"
sb=$(dump.erofs -s "$img")
grep -q 'UUID: *00000000-0000-0000-0000-000000000000' <<<"$sb" || fail "UUID not zero: $sb"
grep -q 'Filesystem features:.*0padding.*big_pcluster' <<<"$sb" || fail "not an LZ4 image with 64K pclusters: $sb"
grep -q 'Layout: 3' <<<"$(dump.erofs --path=/usr/share/tool/numbers.txt "$img")" ||
    fail "numbers.txt not compressed with compact indexes: $(dump.erofs --path=/usr/share/tool/numbers.txt "$img")"
[ $(($(stat -c %s "$img") % 4096)) -eq 0 ] || fail "image size is not a multiple of 4096"

step "the kernel mounts it: the same files, modes and link targets as the tree"
unshare -m bash -c '
    set -e
    mkdir -p "$1/mnt"
    mount -o loop,ro -t erofs "$2" "$1/mnt"
    diff -r --no-dereference "$1/tree/usr/share" "$1/mnt/usr/share" >/dev/null
    diff -r --no-dereference "$1/tree/opt" "$1/mnt/opt" >/dev/null
    stat -c "%a %U %N" "$1/mnt/usr/bin/tool" "$1/mnt/usr/bin/small-link" >"$1/mnt.stat"
' _ "$WORK" "$WORK/$img" || fail "loop mount of the image differs from the tree"
grep -q "^755 root .*/usr/bin/tool'$" mnt.stat || fail "usr/bin/tool: $(cat mnt.stat)"
grep -q "small-link' -> '../share/tool/small.txt'$" mnt.stat || fail "the symlink: $(cat mnt.stat)"

step "systemd-dissect sees an erofs file system with the release file; systemd-sysext merges it"
systemd-dissect --json=short "$img" >dissect.json || fail "systemd-dissect failed"
python3 - dissect.json <<'PY' || fail "systemd-dissect: $(cat dissect.json)"
import json, sys
d = json.load(open(sys.argv[1]))
assert [m["fstype"] for m in d["mounts"]] == ["erofs"], d["mounts"]
assert d["useSystemExtension"] is True and "ID=_any" in d["extensionRelease"], d
PY
make_root host a/my-files.raw ID=debian VERSION_ID=13
[ "$(merges host usr/share/tool/numbers.txt)" = merged ] || fail "systemd-sysext did not merge the EROFS image"

step "the lock records the format: build --lock alone rebuilds the same bytes elsewhere"
python3 - a/my-files.lock.json <<'PY' || fail "the lock: $(cat a/my-files.lock.json)"
import json, sys
b = json.load(open(sys.argv[1]))["build"]
for k, v in {"format": "erofs", "compression": "lz4hc:12", "erofs_pcluster": "65536", "tail_packing": "yes",
             "xattrs": "yes"}.items():
    assert b[k] == v, (k, b)
assert "block_size" not in b, b
PY
mkdir -p elsewhere
(cd elsewhere && SOURCE_DATE_EPOCH=1 "$SYSEXT_BUILD" -q build --lock "$WORK/a/my-files.lock.json" \
    --set root="$WORK/tree" -o "$WORK/b" --jobs 1) || fail "build --lock"
cmp a/my-files.raw b/my-files.raw || fail "build --lock gave other bytes"
cmp a/my-files.lock.json b/my-files.lock.json || fail "the lock changed"

step "--format squashfs beside the lock: a squashfs image at squashfs's defaults, and the lock says so"
"$SYSEXT_BUILD" -q build --lock a/my-files.lock.json --set root="$WORK/tree" --format squashfs -o c
unsquashfs -s c/my-files.raw | grep -q "Compression zstd" || fail "not a zstd squashfs: $(unsquashfs -s c/my-files.raw)"
python3 - c/my-files.lock.json <<'PY' || fail "the lock: $(cat c/my-files.lock.json)"
import json, sys
b = json.load(open(sys.argv[1]))["build"]
assert b["format"] == "squashfs" and b["compression"] == "zstd:15" and b["block_size"] == "131072", b
assert b["tail_packing"] == "no" and "erofs_pcluster" not in b and "fragments" not in b, b
PY
"$SYSEXT_BUILD" -q build --lock c/my-files.lock.json --set root="$WORK/tree" -o c2
cmp c/my-files.raw c2/my-files.raw || fail "the squashfs lock rebuilds other bytes"
# A lock from before formats (no "format" key) is a squashfs lock.
python3 - c/my-files.lock.json old.lock.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["build"]["format"]
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
"$SYSEXT_BUILD" -q build --lock old.lock.json --set root="$WORK/tree" -o c3
cmp c/my-files.raw c3/my-files.raw || fail "a lock without a format did not rebuild the squashfs image"

step "--fragments (mkfs.erofs -Efragments): the kernel reads it back, the lock records it, --lock rebuilds it"
build "$mf" --set root="$WORK/tree" --set version=1.0 --format erofs --fragments -o f >f-summary.txt 2>/dev/null
grep -qE '^  format  erofs, lz4hc:12, 64K physical clusters, fragments$' f-summary.txt ||
    fail "the summary does not name fragments: $(cat f-summary.txt)"
[ $(($(od -An -tu4 -j $((1024 + 80)) -N4 f/my-files.raw) & 32)) = 32 ] || fail "no FRAGMENTS feature"
unshare -m bash -c '
    set -e
    mkdir -p "$1/mnt-f"
    mount -o loop,ro -t erofs "$2" "$1/mnt-f"
    diff -r --no-dereference "$1/tree/usr/share" "$1/mnt-f/usr/share" >/dev/null
    diff -r --no-dereference "$1/tree/usr/bin" "$1/mnt-f/usr/bin" >/dev/null
    diff -r --no-dereference "$1/tree/opt" "$1/mnt-f/opt" >/dev/null
' _ "$WORK" "$WORK/f/my-files.raw" || fail "the kernel reads other contents from the image with fragments"
python3 -c 'import json, sys; b = json.load(open(sys.argv[1]))["build"]; sys.exit(b.get("fragments") != "yes")' \
    f/my-files.lock.json || fail "the lock does not record fragments: $(cat f/my-files.lock.json)"
"$SYSEXT_BUILD" -q build --lock f/my-files.lock.json --set root="$WORK/tree" -o f2 || fail "build --lock"
cmp f/my-files.raw f2/my-files.raw || fail "build --lock gave other bytes with fragments"
"$SYSEXT_BUILD" inspect f/my-files.raw >f-inspect.txt || fail "inspect cannot read the image with fragments"
expect_exit 2 "--fragments needs --format erofs" "$SYSEXT_BUILD" build "$mf" --set root="$WORK/tree" \
    --set version=1.0 --fragments -o g
[ ! -e g/my-files.raw ] || fail "a refused build wrote an image"

step "settings of the other format are refused by name, and nothing is written"
bad() { # bad TEXT ARGS...
    local want=$1
    shift
    rm -rf bad
    expect_exit 2 "$want" "$SYSEXT_BUILD" build "$mf" --set root="$WORK/tree" --set version=1.0 -o bad "$@"
    [ ! -e bad/my-files.raw ] || fail "an image was written for: $*"
}
bad "--block-size is a squashfs setting; EROFS images take --erofs-pcluster" --format erofs --block-size 256K
bad "--erofs-pcluster needs --format erofs" --erofs-pcluster 64K
bad "--compression: \"lz4hc:12\" is an EROFS compression" --compression lz4hc:12
bad "--compression: \"gzip:9\" is a squashfs compression; EROFS images take none, lz4, lz4hc[:1-12], lzma[:0-9] or zstd[:1-22]" \
    --format erofs --compression gzip:9
bad "--format: squashfs or erofs, not \"ext4\"" --format ext4

step "sign and publish take the image as it is: --format there only checks it"
"$SYSEXT_BUILD" -q keygen -o keys
expect_exit 2 "a/my-files.raw: erofs inside, not squashfs (sign takes the image as it is; --format only checks it)" \
    "$SYSEXT_BUILD" sign a/my-files.raw --key keys/development.key --cert keys/development.crt --format squashfs
expect_exit 2 "c/my-files.raw: squashfs inside, not erofs" \
    "$SYSEXT_BUILD" sign c/my-files.raw --key keys/development.key --cert keys/development.crt --format erofs
[ ! -e a/my-files.verity ] && [ ! -e c/my-files.verity ] || fail "a refused sign wrote sidecars"
"$SYSEXT_BUILD" --json sign c/my-files.raw --key keys/development.key --cert keys/development.crt --format squashfs >sign.json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format"] == "squashfs", d' sign.json ||
    fail "sign --json: $(cat sign.json)"
"$SYSEXT_BUILD" --json sign a/my-files.raw --key keys/development.key --cert keys/development.crt --format erofs >sign-e.json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format"] == "erofs", d' sign-e.json ||
    fail "sign --json: $(cat sign-e.json)"
veritysetup verify a/my-files.raw a/my-files.verity "$(cat a/my-files.roothash)" || fail "veritysetup rejects the EROFS image's tree"
"$SYSEXT_BUILD" -q verify a/my-files.raw --cert keys/development.crt || fail "verify refuses the signed EROFS image"
"$SYSEXT_BUILD" -q publish a/my-files.raw --target any --release-dir rel-e --cert keys/development.crt --format erofs --version 1.0 \
    --arch x86-64 || fail "publish --format erofs"
ls rel-e/any/my-files-1.0-x86-64/my-files-1.0-x86-64.raw >/dev/null || fail "no published EROFS image: $(ls -R rel-e)"
expect_exit 2 "c/my-files.raw: squashfs inside, not erofs (publish takes the image as it is" \
    "$SYSEXT_BUILD" publish c/my-files.raw --target any --release-dir rel --format erofs
[ ! -e rel ] || fail "a refused publish wrote a release"

step "the same bytes for --jobs 1 and 2"
build "$mf" --set root="$WORK/tree" --set version=1.0 --format erofs --tail-packing -o j1 --jobs 1 >/dev/null
build "$mf" --set root="$WORK/tree" --set version=1.0 --format erofs --tail-packing -o j2 --jobs 2 >/dev/null
cmp j1/my-files.raw j2/my-files.raw || fail "--jobs 1 and 2 give other bytes"
cmp j1/my-files.raw a/my-files.raw || fail "two builds give other bytes"
echo PASS

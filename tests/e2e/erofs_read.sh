#!/usr/bin/env bash
# Reading EROFS images (ours and mkfs.erofs's), judged by the kernel and by
# tools we did not write: for each image `inspect --json --list` must list
# what a loop mount of the kernel's EROFS shows (path, type, mode, owners,
# size, link count, inode number = nid, link target, every xattr), and
# `inspect --os-release` must say whether a host takes it. Then an image of
# each writer is signed with sidecars and as a disk image (sign --ddi):
# `verify` accepts both, veritysetup verifies the trees sign wrote,
# systemd-dissect reads the disk image's root partition as a signed EROFS
# file system, and `publish IMAGE` publishes the signed image and disk image
# with contents reports equal to inspect's listing. A truncated image is a
# problem named, not a crash.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool mkfs.erofs veritysetup systemd-dissect unshare mount python3 sfdisk
[ "$(id -u)" = 0 ] || fail "needs root for the loop mount"

tree=$WORK/tree
make_tree "$tree"
s=$tree/usr/share/sysext-e2e
mkdir -p "$s/many"
for i in $(seq 1 300); do echo "$i" >"$s/many/entry-with-a-longish-name-$i"; done
seq 1 400000 >"$s/segments.txt"
ln -s "$(printf 'x%.0s' {1..3000})" "$s/long-link"
chown 1234:5678 "$s/text.txt"
# mkfs.erofs packs the tree as it is: give it the release file pack writes.
mtree=$WORK/mkfs-tree
cp -a "$tree" "$mtree"
# mkfs.erofs 1.5 fails on a 255-byte name ("Could not format the device").
rm "$mtree/usr/share/sysext-e2e/$TREE_LONGNAME"
mkdir -p "$mtree/usr/lib/extension-release.d"
printf 'ID=_any\nARCHITECTURE=x86-64\n' >"$mtree/usr/lib/extension-release.d/extension-release.e2e"

SB=$SYSEXT_BUILD
ours() { # ours CASE FLAGS...: pack --format erofs into CASE/e2e.raw
    local case=$1
    shift
    mkdir -p "$WORK/$case"
    "$SB" --quiet pack "$tree" -o "$WORK/$case/e2e.raw" --os-id _any --arch x86-64 \
        --keep-owners --format erofs "$@"
}
mkfs() { # mkfs CASE OPTIONS...: mkfs.erofs into CASE/e2e.raw
    local case=$1
    shift
    mkdir -p "$WORK/$case"
    mkfs.erofs --quiet -T0 "$@" "$WORK/$case/e2e.raw" "$mtree" >/dev/null
}

step "packing images with our writer and with mkfs.erofs"
ours ours-tails --tail-packing
ours ours-none --compression none
ours ours-lz4 --compression lz4 --erofs-pcluster 4K
mkfs mkfs-flatcar -zlz4hc,12 -C65536 -Eztailpacking
mkfs mkfs-lz4 -zlz4
mkfs mkfs-legacy -zlz4 -Elegacy-compress
mkfs mkfs-plain
mkfs mkfs-chunks --chunksize=4096
cases="ours-tails ours-none ours-lz4 mkfs-flatcar mkfs-lz4 mkfs-legacy mkfs-plain mkfs-chunks"

# kernel_view IMAGE OUT: the loop-mounted image as JSON (one object per path).
kernel_view() {
    unshare -m bash -c '
        set -e
        mkdir -p "$1.mnt"
        mount -o loop,ro -t erofs "$1" "$1.mnt"
        python3 - "$1.mnt" >"$2" <<"PY"
import json, os, stat, sys
top = sys.argv[1]
out = {}
for dirpath, dirs, files in os.walk(top):
    for name in dirs + files:
        p = os.path.join(dirpath, name)
        st = os.lstat(p)
        rel = os.path.relpath(p, top)
        kind = {stat.S_IFDIR: "d", stat.S_IFREG: "f", stat.S_IFLNK: "l",
                stat.S_IFIFO: "p"}.get(stat.S_IFMT(st.st_mode), "?")
        e = {"type": kind, "mode": "%04o" % stat.S_IMODE(st.st_mode),
             "uid": st.st_uid, "gid": st.st_gid, "nlink": st.st_nlink, "inode": st.st_ino,
             "xattrs": {n: os.getxattr(p, n, follow_symlinks=False).hex()
                        for n in os.listxattr(p, follow_symlinks=False)}}
        if kind in "fl":
            e["size"] = st.st_size
        if kind == "l":
            e["target"] = os.readlink(p)
        out[rel] = e
print(json.dumps(out, sort_keys=True))
PY
    ' _ "$1" "$2" || fail "loop mount of $1 failed: $(dmesg | tail -3)"
}

# our_view IMAGE OUT: inspect --json --list as the same JSON.
our_view() {
    "$SB" --json inspect "$1" --list >"$2.inspect" || fail "inspect $1 failed: $(cat "$2.inspect")"
    python3 - "$2.inspect" >"$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "erofs" and d["contents"]["format"] == "erofs", d["kind"]
out = {}
for e in d["entries"]:
    if e["path"] == "":
        continue
    x = {k: e[k] for k in ("type", "mode", "uid", "gid", "nlink", "inode")}
    x["xattrs"] = e.get("xattrs", {})
    if e["type"] in "fl":
        x["size"] = e["size"]
    if e["type"] == "l":
        x["target"] = e["target"]
    out[e["path"]] = x
print(json.dumps(out, sort_keys=True))
PY
}

for c in $cases; do
    step "$c: inspect --list agrees with the kernel's loop mount"
    img=$WORK/$c/e2e.raw
    kernel_view "$img" "$WORK/$c/kernel.json"
    our_view "$img" "$WORK/$c/ours.json"
    python3 - "$WORK/$c/kernel.json" "$WORK/$c/ours.json" <<'PY' || fail "$c: inspect and the kernel disagree"
import json, sys
k, o = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = [p for p in sorted(set(k) | set(o)) if k.get(p) != o.get(p)]
for p in bad[:5]:
    print("kernel:", p, k.get(p), "\ninspect:", p, o.get(p), file=sys.stderr)
assert not bad and len(k) > 340, (len(bad), len(k))
assert o["usr/bin/sysext-e2e-cap"]["xattrs"].get("security.capability"), "no capability"
assert o["usr/share/sysext-e2e/hard-one"]["inode"] == o["usr/share/sysext-e2e/hard-two"]["inode"]
PY
    fsck.erofs "$img" >/dev/null 2>&1 || fail "$c: fsck.erofs rejects the image"

    step "$c: inspect --os-release"
    printf 'ID=debian\nVERSION_ID=13\n' >"$WORK/os-release"
    "$SB" --json inspect "$img" --os-release "$WORK/os-release" --host-arch x86-64 >"$WORK/host.json" ||
        fail "$c: inspect --os-release failed: $(cat "$WORK/host.json")"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["host"]["accepted"] and d["release"]["ID"]=="_any", d["host"]' "$WORK/host.json"
    expect_exit 4 "ARCHITECTURE" "$SB" inspect "$img" --os-release "$WORK/os-release" --host-arch arm64
done

"$SB" --quiet keygen -o "$WORK/keys" >/dev/null
key=$WORK/keys/development.key cert=$WORK/keys/development.crt

# verity_check DATA-FILE HASH-FILE ROOT: veritysetup verifies a tree sign wrote.
verity_check() {
    veritysetup verify "$1" "$2" "$3" >/dev/null || fail "veritysetup rejects the tree of $1"
}

for c in ours-tails mkfs-flatcar; do
    img=$WORK/$c/e2e.raw
    step "$c: sign with sidecars, verify, veritysetup"
    "$SB" --quiet sign "$img" --key "$key" --cert "$cert" || fail "$c: sign failed"
    "$SB" verify "$img" --cert "$cert" >/dev/null || fail "$c: verify refuses the signed image"
    verity_check "$img" "$WORK/$c/e2e.verity" "$(cat "$WORK/$c/e2e.roothash")"

    step "$c: sign --ddi, verify, veritysetup, systemd-dissect"
    mkdir -p "$WORK/$c/ddi"
    ddi=$WORK/$c/ddi/e2e.raw
    "$SB" --quiet sign "$img" --key "$key" --cert "$cert" --ddi -o "$ddi" || fail "$c: sign --ddi failed"
    "$SB" --json verify "$ddi" --cert "$cert" >"$WORK/verify.json" || fail "$c: verify refuses the disk image: $(cat "$WORK/verify.json")"
    root=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["kind"]=="ddi"; print(d["root_hash"])' "$WORK/verify.json")
    # The partitions as sfdisk sees them, cut out with dd: the root partition
    # holds the image byte for byte, its verity partition the tree.
    mapfile -t parts < <(sfdisk --dump "$ddi" | grep '^/' | sed 's/.*start= *\([0-9]*\), *size= *\([0-9]*\).*/\1 \2/')
    read -r s0 n0 <<<"${parts[0]}"
    read -r s1 n1 <<<"${parts[1]}"
    dd if="$ddi" of="$WORK/part-root" bs=512 skip="$s0" count="$n0" status=none
    dd if="$ddi" of="$WORK/part-verity" bs=512 skip="$s1" count="$n1" status=none
    cmp -s "$WORK/part-root" "$img" || fail "$c: the root partition is not the image"
    verity_check "$WORK/part-root" "$WORK/part-verity" "$root"
    systemd-dissect --json=short "$ddi" >"$WORK/dissect.json" || fail "$c: systemd-dissect failed"
    python3 - "$WORK/dissect.json" "$root" <<'PY' || fail "$c: systemd-dissect: $(cat "$WORK/dissect.json")"
import json, sys
d = json.load(open(sys.argv[1]))
m = {x["designator"]: x for x in d["mounts"]}
assert m["root"]["fstype"] == "erofs" and m["root"]["architecture"] == "x86-64", m
assert m["root"]["verity"] in ("yes", "signed"), m
assert m["root"]["partition_uuid"].replace("-", "") == sys.argv[2][:32], m
assert "ID=_any" in d["extensionRelease"], d
PY
    "$SB" --json inspect "$ddi" --cert "$cert" --list >"$WORK/ddi-inspect.json" ||
        fail "$c: inspect refuses the disk image: $(cat "$WORK/ddi-inspect.json")"
    python3 - "$WORK/ddi-inspect.json" "$WORK/$c/ours.json" <<'PY' || fail "$c: inspect of the disk image lists other contents"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "disk-image" and d["contents"]["format"] == "erofs", d["kind"]
assert d["verity"]["status"] == "verified" and d["signature"]["status"] == "trusted", (d["verity"], d["signature"])
bare = json.load(open(sys.argv[2]))
assert {e["path"] for e in d["entries"] if e["path"]} == set(bare)
PY

    step "$c: publish the signed image and the signed disk image"
    for what in "$img" "$ddi"; do
        rel=$WORK/$c/rel-$(basename "$(dirname "$what")")
        "$SB" --quiet publish "$what" --target debian --release-dir "$rel" --cert "$cert" \
            --version 1.0 2>/dev/null || fail "$c: publish $what failed"
        dir=$rel/debian/e2e-1.0-x86-64
        [ -f "$dir/e2e-1.0-x86-64.raw" ] || fail "$c: publish wrote no image: $(ls -R "$rel")"
        "$SB" inspect "$what" --list >"$WORK/list.txt"
        grep -v '^#' "$dir/contents.txt" >"$WORK/published.txt"
        [ "$(wc -l <"$WORK/published.txt")" -gt 340 ] || fail "$c: contents.txt is short"
        diff "$WORK/published.txt" "$WORK/list.txt" >/dev/null ||
            fail "$c: contents.txt differs from inspect --list: $(diff "$WORK/published.txt" "$WORK/list.txt" | head -5)"
    done
    [ -f "$WORK/$c/rel-$c/debian/e2e-1.0-x86-64/e2e-1.0-x86-64.p7s" ] ||
        fail "$c: publish of the signed image left out its signature"
done

step "a damaged EROFS image is a named problem"
mkdir -p "$WORK/cut"
head -c 8192 "$WORK/ours-none/e2e.raw" >"$WORK/cut/e2e.raw"
expect_exit 4 "contents: $WORK/cut/e2e.raw: truncated: the superblock says the image has" \
    "$SB" inspect "$WORK/cut/e2e.raw"
expect_exit 3 "refusing to sign: $WORK/cut/e2e.raw: truncated" \
    "$SB" sign "$WORK/cut/e2e.raw" --key "$key" --cert "$cert"
echo "PASS"

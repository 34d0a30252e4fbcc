#!/usr/bin/env bash
# Sparse files in archives: GNU tar's pax (1.0) and GNU (old) sparse formats,
# plain and zstd-compressed, with a hole in the middle, a file that ends in a
# hole and a file that is all hole. `pack` (streamed) and `build` (saved to
# disk) must both give files whose bytes unsquashfs reads back equal to the
# originals, and the same image as packing the directory itself.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool tar zstd unsquashfs truncate cmp

tree=$WORK/tree
mkdir -p "$tree/usr/share/sparse" "$tree/usr/lib/extension-release.d"
echo "ID=_any" >"$tree/usr/lib/extension-release.d/extension-release.e2e"
f=$tree/usr/share/sparse
printf 'head' >"$f/middle-hole" && truncate -s 3M "$f/middle-hole" && printf 'tail' >>"$f/middle-hole"
printf 'data' >"$f/ends-in-hole" && truncate -s 2M "$f/ends-in-hole"
truncate -s 5M "$f/all-hole"
echo "not sparse" >"$f/plain"

mkdir -p "$WORK/dir" "$WORK/out"
"$SYSEXT_BUILD" -q pack "$tree" -o "$WORK/dir/e2e.raw" || fail "packing the directory failed"

check_image() { # check_image IMAGE WHAT
    local name
    for name in middle-hole ends-in-hole all-hole plain; do
        unsquashfs -cat "$1" "usr/share/sparse/$name" | cmp -s - "$f/$name" ||
            fail "$2: usr/share/sparse/$name differs from the original"
    done
    cmp -s "$1" "$WORK/dir/e2e.raw" || fail "$2: not the image the directory gives"
}

for format in posix gnu; do
    tar -C "$tree" --sparse --format="$format" -cf "$WORK/$format.tar" usr
    zstd -q "$WORK/$format.tar" -o "$WORK/$format.tar.zst"
    for archive in "$WORK/$format.tar" "$WORK/$format.tar.zst"; do
        what=${archive##*/}
        step "pack $what"
        rm -f "$WORK/out/e2e.raw"
        "$SYSEXT_BUILD" -q pack "$archive" -o "$WORK/out/e2e.raw" || fail "pack $what failed"
        check_image "$WORK/out/e2e.raw" "pack $what"
    done
done

step "build from a sparse tar (entries saved to disk)"
mkdir -p "$WORK/profiles"
cat >"$WORK/profiles/e2e.json" <<JSON
{
  "name": "e2e",
  "targets": { "any": { "release": { "ID": "_any" },
                         "sources": [{ "type": "package", "path": "$WORK/posix.tar.zst" }] } }
}
JSON
build "$WORK/profiles/e2e.json" --set version=1 -o "$WORK/built" >/dev/null || fail "build failed"
for name in middle-hole ends-in-hole all-hole plain; do
    unsquashfs -cat "$WORK/built/e2e.raw" "usr/share/sparse/$name" | cmp -s - "$f/$name" ||
        fail "build: usr/share/sparse/$name differs from the original"
done
echo "PASS"

#!/usr/bin/env bash
# `sysext-build build PROFILE` with every source kind but Debian archives
# (build_debian.sh): a directory (profiles/my-files.json, and select + prefix),
# packages (.deb by dpkg-deb, RPM by rpmbuild, Gentoo GPKG and XPAK and a plain
# tar.zst built here by tar, zstd, bzip2 and python3) and URLs (file:// and
# http://127.0.0.1 with their SHA-256 pin). The same files through any source
# must give the same image bytes; unsquashfs, sha256sum and python3 judge.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
source "$SOURCE_DIR/tests/tools/debian_mirror.sh"
require_tool unsquashfs dpkg-deb rpmbuild tar zstd bzip2 python3 sha256sum cmp

# The files every source below carries.
tree=$WORK/tree
mkdir -p "$tree/usr/bin" "$tree/usr/share/mytool/doc"
chmod 0755 "$tree" "$tree/usr" "$tree/usr/bin" "$tree/usr/share" "$tree/usr/share/mytool" "$tree/usr/share/mytool/doc"
printf '#!/bin/sh\necho "mytool 1.0"\n' >"$tree/usr/bin/mytool"
chmod 0755 "$tree/usr/bin/mytool"
ln -s mytool "$tree/usr/bin/mt"
echo "some data" >"$tree/usr/share/mytool/data.txt"
echo "read me" >"$tree/usr/share/mytool/doc/README"
chmod 0644 "$tree/usr/share/mytool/data.txt" "$tree/usr/share/mytool/doc/README"
expected_listing() { # the listing every image of $tree must show
    cat <<EOF
drwxr-xr-x 0/0 usr
drwxr-xr-x 0/0 usr/bin
lrwxrwxrwx 0/0 usr/bin/mt -> mytool
-rwxr-xr-x 0/0 usr/bin/mytool
drwxr-xr-x 0/0 usr/lib
drwxr-xr-x 0/0 usr/lib/extension-release.d
-rw-r--r-- 0/0 usr/lib/extension-release.d/extension-release.$1
drwxr-xr-x 0/0 usr/share
drwxr-xr-x 0/0 usr/share/mytool
-rw-r--r-- 0/0 usr/share/mytool/data.txt
drwxr-xr-x 0/0 usr/share/mytool/doc
-rw-r--r-- 0/0 usr/share/mytool/doc/README
EOF
}
check_files() { # check_files IMAGE NAME
    diff -u <(expected_listing "$2") <(listing "$1") || fail "$1: unexpected entries"
    [ "$(image_file "$1" usr/share/mytool/data.txt)" = "some data" ] || fail "$1: data.txt content"
    cmp <(image_file "$1" usr/bin/mytool) "$tree/usr/bin/mytool" || fail "$1: mytool content"
}

step "directory: profiles/my-files.json with --set root and version"
build "$SOURCE_DIR/profiles/my-files.json" --set root="$tree" --set version=1.0 -o "$WORK/out-mine" >"$WORK/mine.txt"
image=$WORK/out-mine/my-files.raw
check_files "$image" my-files
image_file "$image" usr/lib/extension-release.d/extension-release.my-files | sort >"$WORK/mine.release"
printf '%s\n' ARCHITECTURE=x86-64 EXTENSION_RELOAD_MANAGER=1 ID=_any SYSEXT_LEVEL=1.0 | diff -u - "$WORK/mine.release" ||
    fail "extension-release.my-files"
grep -qF "image   $image" "$WORK/mine.txt" || fail "the summary does not say where the image is: $(cat "$WORK/mine.txt")"
[ -f "$WORK/out-mine/my-files.lock.json" ] || fail "no lock file next to the image"
[ "$(ls -A "$WORK/out-mine" | sort | tr '\n' ' ')" = "my-files.lock.json my-files.raw " ] ||
    fail "the output directory holds more: $(ls -A "$WORK/out-mine")"

step "--json prints a summary that agrees with the image"
"$SYSEXT_BUILD" --json build --download-cache "$BUILD_CACHE" "$SOURCE_DIR/profiles/my-files.json" \
    --set root="$tree" --set version=1.0 --arch arm64 -o "$WORK/out-json" >"$WORK/mine.json"
python3 - "$WORK/mine.json" "$WORK/out-json/my-files.raw" "$(sha256sum <"$WORK/out-json/my-files.raw" | cut -d' ' -f1)" \
    "$(stat -c %s "$WORK/out-json/my-files.raw")" <<'PY' || fail "--json summary: $(cat "$WORK/mine.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["name"] == "my-files" and j["version"] == "1.0" and j["target"] == "any", j
assert j["architecture"] == "arm64" and j["image"] == sys.argv[2], j
assert j["sha256"] == sys.argv[3] and j["size"] == int(sys.argv[4]), j
assert j["lock"] == sys.argv[2][:-4] + ".lock.json", j
assert j["extension_release"]["ARCHITECTURE"] == "arm64", j  # an object, as in manifest.json
# The local directory is an input too, named as the profile names it.
[i] = j["inputs"]
assert i["name"] == "${root} (source 1)" and len(i["sha256"]) == 64, j
PY
image_file "$WORK/out-json/my-files.raw" usr/lib/extension-release.d/extension-release.my-files |
    grep -qx ARCHITECTURE=arm64 || fail "--arch arm64 not in extension-release"

step "directory with select and prefix, relative to the profile"
mkdir -p "$WORK/profiles"
cat >"$WORK/profiles/pick.json" <<'EOF'
{
  "name": "pick",
  "targets": {
    "any": {
      "release": { "ID": "_any" },
      "sources": [
        { "type": "directory", "path": "../tree", "select": ["usr/bin/mytool", "usr/share/mytool/doc"],
          "prefix": "opt/${name}" },
        { "type": "directory", "path": "../tree", "select": ["usr/share/**/data.txt"] }
      ]
    }
  }
}
EOF
build "$WORK/profiles/pick.json" --set version=2.0 -o "$WORK/out-pick" >/dev/null
listing "$WORK/out-pick/pick.raw" | grep -v extension-release >"$WORK/pick.list"
diff -u - "$WORK/pick.list" <<'EOF' || fail "select + prefix took the wrong entries"
drwxr-xr-x 0/0 opt
drwxr-xr-x 0/0 opt/pick
drwxr-xr-x 0/0 opt/pick/usr
drwxr-xr-x 0/0 opt/pick/usr/bin
-rwxr-xr-x 0/0 opt/pick/usr/bin/mytool
drwxr-xr-x 0/0 opt/pick/usr/share
drwxr-xr-x 0/0 opt/pick/usr/share/mytool
drwxr-xr-x 0/0 opt/pick/usr/share/mytool/doc
-rw-r--r-- 0/0 opt/pick/usr/share/mytool/doc/README
drwxr-xr-x 0/0 usr
drwxr-xr-x 0/0 usr/lib
drwxr-xr-x 0/0 usr/share
drwxr-xr-x 0/0 usr/share/mytool
-rw-r--r-- 0/0 usr/share/mytool/data.txt
EOF

step "targets: --target picks the image name, release and requirements; architectures limit --arch"
cat >"$WORK/profiles/multi.json" <<'EOF'
{
  "name": "pkg",
  "default_target": "any",
  "architectures": ["x86-64", "arm64"],
  "release": { "EXTENSION_RELOAD_MANAGER": "1" },
  "targets": {
    "flatcar": { "image": "flatcar-${name}", "requires": ["os_version"],
                 "release": { "ID": "flatcar", "VERSION_ID": "${os_version}" },
                 "sources": [{ "type": "directory", "path": "../tree" }] },
    "any": { "release": { "ID": "_any", "SYSEXT_LEVEL": "1.0" },
             "sources": [{ "type": "directory", "path": "../tree" }] }
  }
}
EOF
build "$WORK/profiles/multi.json" --set version=1.0 -o "$WORK/out-multi-any" >/dev/null
image_file "$WORK/out-multi-any/pkg.raw" usr/lib/extension-release.d/extension-release.pkg | grep -qx ID=_any ||
    fail "default_target any not built"
build "$WORK/profiles/multi.json" --target flatcar --set os_version=4593.2.5 --set version=1.0 \
    -o "$WORK/out-multi-fc" >/dev/null
# A target named flatcar also gets its update payload (unsigned, with the hash to sign).
[ "$(ls "$WORK/out-multi-fc" | tr '\n' ' ')" = "flatcar-pkg.gz flatcar-pkg.gz.hash flatcar-pkg.lock.json flatcar-pkg.raw " ] ||
    fail "--target flatcar: $(ls "$WORK/out-multi-fc")"
image_file "$WORK/out-multi-fc/flatcar-pkg.raw" usr/lib/extension-release.d/extension-release.flatcar-pkg | sort |
    diff -u <(printf '%s\n' ARCHITECTURE=x86-64 EXTENSION_RELOAD_MANAGER=1 ID=flatcar VERSION_ID=4593.2.5) - ||
    fail "--target flatcar: extension-release"
expect_fail 'target "flatcar" needs --set os_version=VALUE' \
    build "$WORK/profiles/multi.json" --target flatcar --set version=1.0 -o "$WORK/out-x"
expect_fail 'is not built for riscv64' \
    build "$WORK/profiles/multi.json" --arch riscv64 --set version=1.0 -o "$WORK/out-x"
[ ! -e "$WORK/out-x" ] || [ -z "$(ls -A "$WORK/out-x")" ] || fail "a refused build left files: $(ls -A "$WORK/out-x")"

# Packages of every kind, each holding $tree. One profile takes any of them.
cat >"$WORK/profiles/pkg.json" <<'EOF'
{
  "name": "pkg",
  "targets": {
    "any": {
      "release": { "ID": "_any", "SYSEXT_LEVEL": "1.0" },
      "requires": ["pkg"],
      "sources": [{ "type": "package", "path": "${pkg}" }]
    }
  }
}
EOF
cat >"$WORK/profiles/pkgdir.json" <<'EOF'
{
  "name": "pkg",
  "targets": {
    "any": { "release": { "ID": "_any", "SYSEXT_LEVEL": "1.0" },
             "sources": [{ "type": "directory", "path": "../tree" }] }
  }
}
EOF
build "$WORK/profiles/pkgdir.json" --set version=1.0 -o "$WORK/out-pkgdir" >/dev/null
reference=$WORK/out-pkgdir/pkg.raw
check_files "$reference" pkg
step "by name: sysext-build NAME finds NAME.json in \$SYSEXT_BUILD_PROFILES, writes ./out"
mkdir -p "$WORK/cwd"
(cd "$WORK/cwd" && SYSEXT_BUILD_PROFILES=$WORK/profiles "$SYSEXT_BUILD" pkgdir --set version=1.0 \
    --download-cache "$BUILD_CACHE" >/dev/null 2>&1) || fail "sysext-build pkgdir (shorthand, by name) failed"
cmp "$reference" "$WORK/cwd/out/pkg.raw" || fail "the shorthand build differs"

pkgs=$WORK/pkgs
mkdir -p "$pkgs"

step "package: a .deb made by dpkg-deb (xz and zstd data)"
cp -a "$tree" "$WORK/debroot"
mkdir -p "$WORK/debroot/DEBIAN"
printf 'Package: mytool\nVersion: 1.0-1\nArchitecture: all\nMaintainer: T <t@127.0.0.1>\nDescription: test\n' \
    >"$WORK/debroot/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz --build "$WORK/debroot" "$pkgs/mytool_1.0-1_all.deb" >/dev/null
dpkg-deb --root-owner-group -Zzstd --build "$WORK/debroot" "$pkgs/mytool-zstd.deb" >/dev/null

step "package: an RPM made by rpmbuild"
cat >"$WORK/mytool.spec" <<'EOF'
Name: mytool
Version: 1.0
Release: 1
Summary: test package
License: MIT
BuildArch: noarch
%description
A test package.
%install
cp -a %{tree}/. %{buildroot}/
%files
/usr/bin/mytool
/usr/bin/mt
/usr/share/mytool
EOF
rpmbuild -bb --quiet --define "_topdir $WORK/rpmbuild" --define "tree $tree" \
    --define "__os_install_post %{nil}" --define "_build_id_links none" "$WORK/mytool.spec" >/dev/null
cp "$WORK/rpmbuild/RPMS/noarch/mytool-1.0-1.noarch.rpm" "$pkgs/"

step "package: a Gentoo GPKG (.gpkg.tar) and XPAK (.tbz2)"
# GLEP 78: NAME/gpkg-1 first, then NAME/metadata.tar.*, NAME/image.tar.* with the files under image/.
gp=$WORK/gpkg/mytool-1.0
mkdir -p "$gp" "$WORK/gpkg-image" "$WORK/gpkg-meta/metadata"
cp -a "$tree" "$WORK/gpkg-image/image"
echo "app-misc/mytool-1.0" >"$WORK/gpkg-meta/metadata/CATEGORY"
: >"$gp/gpkg-1"
tar -C "$WORK/gpkg-meta" -cf - metadata | zstd -q >"$gp/metadata.tar.zst"
tar -C "$WORK/gpkg-image" -cf - image | zstd -q >"$gp/image.tar.zst"
tar -C "$WORK/gpkg" --format=ustar -cf "$pkgs/mytool-1.0.gpkg.tar" \
    mytool-1.0/gpkg-1 mytool-1.0/metadata.tar.zst mytool-1.0/image.tar.zst
# XPAK: a tar.bz2, then XPAKPACK, index and data lengths, index, data, XPAKSTOP,
# then the block's length (big-endian) and STOP.
tar -C "$tree" -cf - . | bzip2 >"$pkgs/mytool-1.0.tbz2"
python3 - "$pkgs/mytool-1.0.tbz2" <<'PY'
import struct, sys
items = {"CATEGORY": b"app-misc\n", "PF": b"mytool-1.0\n"}
index, data = b"", b""
for name, value in items.items():
    index += struct.pack(">I", len(name)) + name.encode() + struct.pack(">II", len(data), len(value))
    data += value
block = b"XPAKPACK" + struct.pack(">II", len(index), len(data)) + index + data + b"XPAKSTOP"
with open(sys.argv[1], "ab") as f:
    f.write(block + struct.pack(">I", len(block)) + b"STOP")
PY

step "package: a plain tar.zst, named like nothing in particular"
tar -C "$tree" -cf - . | zstd -q >"$pkgs/mytool.tar.zst"
cp "$pkgs/mytool.tar.zst" "$pkgs/mytool.bin"

step "every package gives the directory's image, byte for byte"
for p in mytool_1.0-1_all.deb mytool-zstd.deb mytool-1.0-1.noarch.rpm mytool-1.0.gpkg.tar mytool-1.0.tbz2 \
    mytool.tar.zst mytool.bin; do
    build "$WORK/profiles/pkg.json" --set pkg="$pkgs/$p" --set version=1.0 -o "$WORK/out-$p" >/dev/null
    check_files "$WORK/out-$p/pkg.raw" pkg
    cmp "$reference" "$WORK/out-$p/pkg.raw" || fail "$p: image differs from the directory's"
    echo "$p: same bytes as the directory"
done
# A relative package path is relative to the profile.
build "$WORK/profiles/pkg.json" --set pkg=../pkgs/mytool-1.0.tbz2 --set version=1.0 -o "$WORK/out-rel" >/dev/null
cmp "$reference" "$WORK/out-rel/pkg.raw" || fail "a package path relative to the profile"

step "url: file:// and http://127.0.0.1, pinned by SHA-256, cached by content"
sha=$(sha256sum <"$pkgs/mytool.tar.zst" | cut -d' ' -f1)
MIRROR_DIR=$WORK/www
mkdir -p "$MIRROR_DIR/files"
cp "$pkgs/mytool_1.0-1_all.deb" "$MIRROR_DIR/files/"
deb_sha=$(sha256sum <"$pkgs/mytool_1.0-1_all.deb" | cut -d' ' -f1)
mirror_serve
url_profile() { # url_profile FILE URL SHA256
    cat >"$1" <<EOF
{
  "name": "pkg",
  "targets": {
    "any": { "release": { "ID": "_any", "SYSEXT_LEVEL": "1.0" },
             "sources": [{ "type": "url", "url": "$2", "sha256": "$3" }] }
  }
}
EOF
}
url_profile "$WORK/profiles/url-file.json" "file://$pkgs/mytool.tar.zst" "$sha"
url_profile "$WORK/profiles/url-http.json" "$MIRROR_URL/files/mytool_1.0-1_all.deb" "$deb_sha"
build "$WORK/profiles/url-file.json" --set version=1.0 -o "$WORK/out-url-file" >/dev/null
cmp "$reference" "$WORK/out-url-file/pkg.raw" || fail "file:// url: image differs"
build "$WORK/profiles/url-http.json" --set version=1.0 -o "$WORK/out-url-http" >/dev/null
cmp "$reference" "$WORK/out-url-http/pkg.raw" || fail "http url: image differs"
[ "$(mirror_gets /files/mytool_1.0-1_all.deb)" = 1 ] || fail "the .deb was not fetched exactly once"
python3 - "$WORK/out-url-http/pkg.lock.json" "$MIRROR_URL/files/mytool_1.0-1_all.deb" "$deb_sha" \
    "$(stat -c %s "$pkgs/mytool_1.0-1_all.deb")" <<'PY' || fail "url lock: $(cat "$WORK/out-url-http/pkg.lock.json")"
import json, sys
lock = json.load(open(sys.argv[1]))
assert lock["sysext-build-lock"] == 1, lock
[e] = lock["inputs"]
assert (e["kind"], e["url"], e["sha256"], e["size"]) == ("url", sys.argv[2], sys.argv[3], int(sys.argv[4])), e
PY
# Cached by content hash: the server's copy is gone, the build still works.
mv "$MIRROR_DIR/files/mytool_1.0-1_all.deb" "$WORK/moved.deb"
build "$WORK/profiles/url-http.json" --set version=1.0 -o "$WORK/out-url-cached" >/dev/null
cmp "$reference" "$WORK/out-url-cached/pkg.raw" || fail "cached url: image differs"
[ "$(mirror_gets /files/mytool_1.0-1_all.deb)" = 1 ] || fail "a cached url was fetched again"
# A damaged cache entry is never used: it is fetched again.
mv "$WORK/moved.deb" "$MIRROR_DIR/files/mytool_1.0-1_all.deb"
entry_file=$BUILD_CACHE/$deb_sha
[ -f "$entry_file" ] || fail "the .deb is not in the download cache as $entry_file: $(ls -R "$BUILD_CACHE")"
printf 'XXXX' | dd of="$entry_file" bs=1 seek=200 conv=notrunc 2>/dev/null
build "$WORK/profiles/url-http.json" --set version=1.0 -o "$WORK/out-url-repaired" >/dev/null 2>"$WORK/repair.err"
cmp "$reference" "$WORK/out-url-repaired/pkg.raw" || fail "damaged cache entry: image differs"
[ "$(mirror_gets /files/mytool_1.0-1_all.deb)" = 2 ] || fail "a damaged cache entry was not fetched again"

step "url: a wrong pin fails, naming both hashes"
wrong=$(printf '%064d' 0 | tr 0 a)
url_profile "$WORK/profiles/url-wrong.json" "$MIRROR_URL/files/mytool_1.0-1_all.deb" "$wrong"
bad_build "4" pkg "$MIRROR_URL/files/mytool_1.0-1_all.deb: SHA-256 mismatch: expected $wrong
got $deb_sha" "$WORK/profiles/url-wrong.json" --set version=1.0
# (A pin already in the cache is its content: the URL is then not read at all.)
other_sha=$(sha256sum <"$tree/usr/bin/mytool" | cut -d' ' -f1)
url_profile "$WORK/profiles/url-wrong-file.json" "file://$pkgs/mytool.tar.zst" "$other_sha"
bad_build "4" pkg "file://$pkgs/mytool.tar.zst: SHA-256 mismatch: expected $other_sha
got $sha" "$WORK/profiles/url-wrong-file.json" --set version=1.0
[ ! -e "$BUILD_CACHE/$other_sha" ] || fail "a mismatching download entered the cache"
echo "PASS"

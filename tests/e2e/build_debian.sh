#!/usr/bin/env bash
# `sysext-build build PROFILE` from a Debian archive this test builds with
# dpkg-deb and dpkg-scanpackages, signs with a key it generates and serves on
# 127.0.0.1: the version pattern picks the right package, with_dependencies
# carries what the base system lacks (and nothing it has), the lock file
# rebuilds the same bytes even after the archive moves on, and a tampered
# package or InRelease is refused. Judged by unsquashfs, cmp and python3.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
source "$SOURCE_DIR/tests/tools/debian_mirror.sh"
require_tool gpg gpgv dpkg-deb dpkg-scanpackages python3 xz unsquashfs cmp sha256sum

step "a signed test archive: tool 1.9, 2.0.1, 2.1.0, 3.0; its library; a base package"
mirror_init
for v in 1.9-1 2.0.1-1 2.1.0-1 3.0-1; do
    mirror_add_deb_tree tool "$v" amd64 "libfoo1 (>= 1.0), libc6" \
        "$(mirror_file "tool-$v" usr/bin/tool "#!/bin/sh
echo tool $v")"
done
mirror_add_deb_tree tool 2.1.0-1 arm64 "libfoo1, libc6" "$(mirror_file tool-arm64 usr/bin/tool "tool for arm64")"
mirror_add_deb_tree libfoo1 1.2-1 amd64 "libc6" \
    "$(mirror_file libfoo1 usr/lib/x86_64-linux-gnu/libfoo.so.1 "libfoo 1.2")"
mirror_add_deb_tree libfoo1 1.2-1 arm64 "libc6" \
    "$(mirror_file libfoo1-arm64 usr/lib/aarch64-linux-gnu/libfoo.so.1 "libfoo 1.2 arm64")"
mirror_add_deb_tree libc6 2.41-1 amd64 "" "$(mirror_file libc6 usr/lib/x86_64-linux-gnu/libc.so.6 "not a libc")"
mirror_add_deb_tree libc6 2.41-1 arm64 "" "$(mirror_file libc6-arm64 usr/lib/aarch64-linux-gnu/libc.so.6 "not a libc")"
mirror_add_deb_tree extra 1.0-1 all "" "$(mirror_file extra usr/share/extra/notes "extra notes")"
mirror_index stable amd64 arm64
mirror_serve

mkdir -p "$WORK/profiles"
printf '# the base system the extension runs on\nlibc6\nbase-files\n' >"$WORK/profiles/base.txt"
cat >"$WORK/profiles/tool.json" <<'EOF'
{
  "name": "tool",
  "version_from": "tool",
  "release": { "SYSEXT_VERSION_ID": "${version}" },
  "targets": {
    "debian": {
      "release": { "ID": "debian", "VERSION_ID": "13" },
      "sources": [{ "type": "debian", "suite": "stable", "packages": ["tool"],
                    "with_dependencies": true, "base_system": "base.txt" }]
    }
  },
  "components": [
    { "name": "tool", "paths": ["usr/bin/tool"] },
    { "name": "libfoo", "paths": ["usr/lib/${triplet}/libfoo.so.*"], "package": "libfoo1" }
  ],
  "exclude": ["usr/share/tool", "usr/share/libfoo1"],
  "files": [{ "path": "usr/share/tool/built", "content": "${version} ${debian_arch}\n" }]
}
EOF
src=(--mirror "$MIRROR_URL" --keyring "$MIRROR_KEYRING")

step "--version 2.x: tool 2.1.0-1 with libfoo1, and not libc6 (the base has it)"
"$SYSEXT_BUILD" --json build --download-cache "$BUILD_CACHE" "$WORK/profiles/tool.json" "${src[@]}" \
    --version 2.x -o "$WORK/out1" >"$WORK/out1.json"
image=$WORK/out1/tool.raw
diff -u - <(listing "$image" | grep -v '^d') <<'EOF' || fail "2.x: wrong files"
-rw-r--r-- 0/0 usr/bin/tool
-rw-r--r-- 0/0 usr/lib/extension-release.d/extension-release.tool
-rw-r--r-- 0/0 usr/lib/x86_64-linux-gnu/libfoo.so.1
-rw-r--r-- 0/0 usr/share/tool/built
EOF
[ "$(image_file "$image" usr/bin/tool | tail -n1)" = "echo tool 2.1.0-1" ] || fail "2.x: not tool 2.1.0-1"
[ "$(image_file "$image" usr/share/tool/built)" = "2.1.0 amd64" ] || fail "2.x: \${version} \${debian_arch}"
image_file "$image" usr/lib/extension-release.d/extension-release.tool | sort >"$WORK/out1.release"
printf '%s\n' ARCHITECTURE=x86-64 ID=debian SYSEXT_VERSION_ID=2.1.0 VERSION_ID=13 | diff -u - "$WORK/out1.release" ||
    fail "2.x: extension-release"
python3 - "$WORK/out1.json" "$WORK/out1/tool.lock.json" "$MIRROR_DIR" <<'PY' || fail "2.x: summary or lock"
import hashlib, json, os, sys
summary, lock, mirror = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
assert summary["version"] == "2.1.0", summary
assert summary["components"] == {"tool": "2.1.0-1", "libfoo": "1.2-1"}, summary
got = sorted((e["name"], e["version"]) for e in summary["inputs"])
assert got == [("libfoo1", "1.2-1"), ("tool", "2.1.0-1")], got
for e in lock["inputs"]:
    data = open(os.path.join(mirror, e["filename"]), "rb").read()
    assert e["kind"] == "deb" and e["architecture"] == "amd64", e
    assert e["sha256"] == hashlib.sha256(data).hexdigest() and e["size"] == len(data), e
assert sorted(e["name"] for e in lock["inputs"]) == ["libfoo1", "tool"], lock
PY

step "other patterns and architectures"
for case in "2.0.x 2.0.1-1 x86-64" "2.0.1 2.0.1-1 x86-64" "latest 3.0-1 x86-64" "1.x 1.9-1 x86-64"; do
    set -- $case
    build "$WORK/profiles/tool.json" "${src[@]}" --version "$1" --arch "$3" -o "$WORK/out-$1" >/dev/null
    [ "$(image_file "$WORK/out-$1/tool.raw" usr/bin/tool | tail -n1)" = "echo tool $2" ] ||
        fail "--version $1: not tool $2"
done
build "$WORK/profiles/tool.json" "${src[@]}" --version 2.x --arch arm64 -o "$WORK/out-arm64" >/dev/null
[ "$(image_file "$WORK/out-arm64/tool.raw" usr/bin/tool)" = "tool for arm64" ] || fail "arm64: wrong tool"
[ "$(image_file "$WORK/out-arm64/tool.raw" usr/lib/aarch64-linux-gnu/libfoo.so.1)" = "libfoo 1.2 arm64" ] ||
    fail "arm64: wrong libfoo"
image_file "$WORK/out-arm64/tool.raw" usr/lib/extension-release.d/extension-release.tool |
    grep -qx ARCHITECTURE=arm64 || fail "arm64: extension-release"
bad_build "3" tool 'no version of "tool" matches "7.x"' "$WORK/profiles/tool.json" "${src[@]}" --version 7.x

step "without a base list, the base's packages are carried too"
sed 's/, "base_system": "base.txt"//' "$WORK/profiles/tool.json" >"$WORK/profiles/nobase.json"
grep -q base_system "$WORK/profiles/nobase.json" && fail "test setup: base_system still in nobase.json"
build "$WORK/profiles/nobase.json" "${src[@]}" --version 2.x -o "$WORK/out-nobase" >/dev/null
[ -n "$(entry "$WORK/out-nobase/tool.raw" usr/lib/x86_64-linux-gnu/libc.so.6)" ] ||
    fail "without base_system, libc6 was not carried: $(listing "$WORK/out-nobase/tool.raw")"

step "the same build again, and from the lock with an empty cache: the same bytes"
build "$WORK/profiles/tool.json" "${src[@]}" --version 2.x -o "$WORK/out1b" >/dev/null
cmp "$image" "$WORK/out1b/tool.raw" || fail "two builds of the same inputs differ"
"$SYSEXT_BUILD" build "$WORK/profiles/tool.json" "${src[@]}" --lock "$WORK/out1/tool.lock.json" \
    --download-cache "$WORK/cache2" -o "$WORK/out-lock1" >/dev/null
cmp "$image" "$WORK/out-lock1/tool.raw" || fail "the lock file did not reproduce the image"
cmp "$WORK/out1/tool.lock.json" "$WORK/out-lock1/tool.lock.json" || fail "the lock rebuild wrote another lock"

step "a profile with two Debian sources rebuilds from its lock"
python3 - "$WORK/profiles/tool.json" "$WORK/profiles/two.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["targets"]["debian"]["sources"].append({"type": "debian", "suite": "stable", "packages": ["extra"]})
json.dump(p, open(sys.argv[2], "w"), indent=1)
PY
build "$WORK/profiles/two.json" "${src[@]}" --version 2.x -o "$WORK/out-two" >/dev/null
[ "$(image_file "$WORK/out-two/tool.raw" usr/share/extra/notes)" = "extra notes" ] || fail "two sources: no extra"
build "$WORK/profiles/two.json" "${src[@]}" --lock "$WORK/out-two/tool.lock.json" -o "$WORK/out-two-lock" >/dev/null
cmp "$WORK/out-two/tool.raw" "$WORK/out-two-lock/tool.raw" || fail "two sources: the lock did not reproduce the image"

step "the archive moves on to tool 2.1.5: --lock still builds 2.1.0, byte for byte"
mirror_add_deb_tree tool 2.1.5-1 amd64 "libfoo1 (>= 1.0), libc6" "$(mirror_file tool-2.1.5 usr/bin/tool "#!/bin/sh
echo tool 2.1.5-1")"
mirror_index stable amd64 arm64
build "$WORK/profiles/tool.json" "${src[@]}" --version 2.x --lock "$WORK/out1/tool.lock.json" -o "$WORK/out-lock2" >/dev/null
cmp "$image" "$WORK/out-lock2/tool.raw" || fail "with --lock, the newer index changed the image"
build "$WORK/profiles/tool.json" "${src[@]}" --version 2.x -o "$WORK/out-new" >/dev/null
[ "$(image_file "$WORK/out-new/tool.raw" usr/bin/tool | tail -n1)" = "echo tool 2.1.5-1" ] ||
    fail "without --lock, 2.x did not pick the newer 2.1.5-1"
[ "$(image_file "$WORK/out-new/tool.raw" usr/share/tool/built)" = "2.1.5 amd64" ] || fail "new version not in \${version}"
grep -q '"2.1.5-1"' "$WORK/out-new/tool.lock.json" || fail "the new lock does not name 2.1.5-1"

step "a .deb whose bytes differ from the index is refused, naming both hashes"
deb=$MIRROR_DIR/pool/main/l/libfoo1/libfoo1_1.2-1_amd64.deb
good=$(sha256sum <"$deb" | cut -d' ' -f1)
cp "$deb" "$WORK/libfoo1.good"
mirror_add_deb_tree libfoo1 1.2-1 amd64 "libc6, evil" "$(mirror_file libfoo1-evil usr/lib/x86_64-linux-gnu/libfoo.so.1 "evil")"
bad=$(sha256sum <"$deb" | cut -d' ' -f1)
[ "$good" != "$bad" ] || fail "test setup: the tampered .deb has the same bytes"
rm -rf "$BUILD_CACHE" # the good copy must not come from the cache
bad_build "4" tool "$MIRROR_URL/pool/main/l/libfoo1/libfoo1_1.2-1_amd64.deb: SHA-256 mismatch: expected $good
got $bad" "$WORK/profiles/tool.json" "${src[@]}" --version 2.x
bad_build "4" tool "libfoo1_1.2-1_amd64.deb: SHA-256 mismatch: expected $good
got $bad" "$WORK/profiles/tool.json" "${src[@]}" --lock "$WORK/out1/tool.lock.json"
[ ! -e "$BUILD_CACHE/$bad" ] || fail "the tampered .deb entered the download cache"
cp "$WORK/libfoo1.good" "$deb"

step "a bad InRelease signature is refused with gpgv's verdict"
inrelease=$MIRROR_DIR/dists/stable/InRelease
cp "$inrelease" "$WORK/InRelease.good"
sed -i 's/^Suite: stable$/Suite: stablf/' "$inrelease"
bad_build "4" tool "$MIRROR_URL/dists/stable/InRelease: signature check failed: gpgv: BAD signature" \
    "$WORK/profiles/tool.json" "${src[@]}" --version 2.x
cp "$WORK/InRelease.good" "$inrelease"
GNUPGHOME=$MIRROR_GNUPG gpg --batch --quiet --passphrase '' \
    --quick-gen-key "someone else <other@127.0.0.1>" ed25519 sign never 2>/dev/null
GNUPGHOME=$MIRROR_GNUPG gpg --batch --quiet --export "other@127.0.0.1" >"$WORK/other-keyring.gpg"
bad_build "4" tool "InRelease: signature check failed: gpgv: Can't check signature: No public key" \
    "$WORK/profiles/tool.json" --mirror "$MIRROR_URL" --keyring "$WORK/other-keyring.gpg" --version 2.x
build "$WORK/profiles/tool.json" "${src[@]}" --version 2.x -o "$WORK/out-after" >/dev/null
echo "PASS"

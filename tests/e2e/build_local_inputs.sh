#!/usr/bin/env bash
# Sources a self-hoster uses (issue 12): an upstream release tarball per
# architecture by url, pinned by a SHA-256 per architecture or through
# variables, with its top directory stripped (strip_components); local
# directory and package inputs recorded in the lock file and the release's
# manifest.json with their SHA-256, and a lock rebuild that refuses a local
# input that changed.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool tar unsquashfs sha256sum python3
cd "$WORK"

step "two release tarballs, tool-1.0/usr/bin/tool inside, one per architecture"
for arch in x86-64 arm64; do
    rm -rf src && mkdir -p src/tool-1.0/usr/bin
    printf '#!/bin/sh\necho %s\n' "$arch" >src/tool-1.0/usr/bin/tool
    chmod 755 src/tool-1.0/usr/bin/tool
    echo "top-level file" >src/README
    tar -C src -czf "tool-$arch.tar.gz" README tool-1.0
done
sha_x86=$(sha256sum <tool-x86-64.tar.gz | cut -d' ' -f1)
sha_arm=$(sha256sum <tool-arm64.tar.gz | cut -d' ' -f1)
cat >per-arch.json <<EOF
{ "name": "tool",
  "targets": { "any": { "release": { "ID": "_any" }, "requires": ["version"],
    "sources": [{ "type": "url", "url": "file://$WORK/tool-\${arch}.tar.gz", "strip_components": 1,
                  "sha256": { "x86-64": "$sha_x86", "arm64": "$sha_arm" } }] } } }
EOF

step "each architecture's tarball, its pin, its top directory stripped"
for arch in x86-64 arm64; do
    build per-arch.json --set version=1.0 --arch "$arch" -o "out-$arch" >/dev/null
    [ "$(image_file "out-$arch/tool.raw" usr/bin/tool | tail -1)" = "echo $arch" ] ||
        fail "$arch: usr/bin/tool is not the $arch tarball's"
    listing "out-$arch/tool.raw" | grep -q "tool-1.0\|README" && fail "$arch: strip_components left $(listing "out-$arch/tool.raw")"
    listing "out-$arch/tool.raw" | grep -q "^-rwxr-xr-x 0/0 usr/bin/tool$" || fail "$arch: $(listing "out-$arch/tool.raw")"
done
expect_exit 2 "the url source has no sha256 for riscv64 (it has: arm64, x86-64)" \
    "$SYSEXT_BUILD" build per-arch.json --set version=1.0 --arch riscv64 -o out-riscv64

step "a sha256 through a variable, checked once expanded"
sed 's/"sha256": {[^}]*}/"sha256": "${tool_sha256}"/' per-arch.json >by-var.json
grep -q '"${tool_sha256}"' by-var.json || fail "the test's profile edit did not apply"
build by-var.json --set version=1.0 --set tool_sha256="$sha_x86" -o out-var >/dev/null
cmp out-var/tool.raw out-x86-64/tool.raw || fail "the variable's pin gave another image"
expect_exit 3 'sha256 "nothex" (from "${tool_sha256}") is not 64 lowercase hex digits' \
    "$SYSEXT_BUILD" build by-var.json --set version=1.0 --set tool_sha256=nothex -o out-bad
expect_exit 4 "SHA-256 mismatch: expected $sha_arm" \
    "$SYSEXT_BUILD" build by-var.json --set version=1.0 --set tool_sha256="$sha_arm" -o out-bad
sed 's/"strip_components": 1/"strip_components": -1/' per-arch.json >bad-strip.json
expect_exit 3 "bad-strip.json:3: \"strip_components\" must be a whole number from 0 to 64" \
    "$SYSEXT_BUILD" build bad-strip.json --set version=1.0 -o out-bad

step "local inputs: a directory and a package, in the lock and the manifest with their SHA-256"
mkdir -p files/usr/share/tool
echo "data 1" >files/usr/share/tool/data
tar -C src/tool-1.0 -cf tool.tar usr
cat >local.json <<'EOF'
{ "name": "tool",
  "targets": { "any": { "release": { "ID": "_any" }, "requires": ["version"],
    "sources": [{ "type": "directory", "path": "files" },
                { "type": "package", "path": "tool.tar" }] } } }
EOF
build local.json --set version=1.0 -o out-local --release-dir rel --base-url http://127.0.0.1:9/tool >/dev/null
python3 - out-local/tool.lock.json "$(sha256sum <tool.tar | cut -d' ' -f1)" "$(stat -c %s tool.tar)" <<'PY' ||
import json, sys
inputs = {e["kind"]: e for e in json.load(open(sys.argv[1]))["inputs"]}
d, p = inputs["directory"], inputs["package"]
assert d["name"] == "files (source 1)" and len(d["sha256"]) == 64 and d["size"] == 7, d
assert p["name"] == "tool.tar (source 2)" and p["sha256"] == sys.argv[2] and p["size"] == int(sys.argv[3]), p
PY
    fail "lock: $(cat out-local/tool.lock.json)"
manifest=$(find rel -name manifest.json)
[ -n "$manifest" ] || fail "no manifest.json under rel/"
python3 - "$manifest" out-local/tool.lock.json <<'PY' || fail "manifest: $(cat "$manifest")"
import json, sys
m = {(i["kind"], i["name"]): i["sha256"] for i in json.load(open(sys.argv[1]))["inputs"]}
for e in json.load(open(sys.argv[2]))["inputs"]:
    assert m[(e["kind"], e["name"])] == e["sha256"], (e, m)
PY

step "the same directory content gives the same digest; a changed one is refused by a lock rebuild"
build local.json --set version=1.0 -o out-local2 >/dev/null
cmp out-local/tool.lock.json out-local2/tool.lock.json || fail "the same inputs gave another lock"
build local.json --lock out-local/tool.lock.json -o out-relock >/dev/null
cmp out-local/tool.raw out-relock/tool.raw || fail "the lock did not rebuild the same image"
echo "data 2" >files/usr/share/tool/data
expect_exit 3 "files (source 1): the directory differs from the one out-local/tool.lock.json recorded" \
    "$SYSEXT_BUILD" build local.json --lock out-local/tool.lock.json -o out-relock2
[ ! -e out-relock2/tool.raw ] || fail "a refused rebuild wrote an image"
echo "PASS"

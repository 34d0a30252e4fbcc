#!/usr/bin/env bash
# A release built from a Debian archive (signed by a key this test makes, served
# on 127.0.0.1): the release is named after the upstream version, manifest.json
# records every package with its source URL, version and the SHA-256 sha256sum
# computes for the .deb in the archive, components.txt shows the components'
# package versions, and `build --lock` with the released lock file (what a
# signing machine runs) republishes the identical release.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
source "$SOURCE_DIR/tests/tools/debian_mirror.sh"
require_tool gpg gpgv dpkg-deb dpkg-scanpackages python3 sha256sum

step "a signed test archive: tool 2.1.0 and its library"
mirror_init
mirror_add_deb_tree tool 2.1.0-1 amd64 "libfoo1 (>= 1.0), libc6" "$(mirror_file tool usr/bin/tool "#!/bin/sh")"
mirror_add_deb_tree libfoo1 1.2-1 amd64 "libc6" "$(mirror_file libfoo1 usr/lib/x86_64-linux-gnu/libfoo.so.1 "libfoo 1.2")"
mirror_add_deb_tree libc6 2.41-1 amd64 "" "$(mirror_file libc6 usr/lib/x86_64-linux-gnu/libc.so.6 "not a libc")"
mirror_index stable amd64
mirror_serve

mkdir -p "$WORK/profiles"
printf 'libc6\n' >"$WORK/profiles/base.txt"
cat >"$WORK/profiles/tool.json" <<'EOF'
{
  "name": "tool",
  "version_from": "tool",
  "release_versions": ["2.x"],
  "targets": {
    "any": {
      "release": { "ID": "_any", "SYSEXT_LEVEL": "1.0" },
      "sources": [{ "type": "debian", "suite": "stable", "packages": ["tool"],
                    "with_dependencies": true, "base_system": "base.txt" }]
    }
  },
  "components": [
    { "name": "tool", "paths": ["usr/bin/tool"] },
    { "name": "libfoo", "paths": ["usr/lib/${triplet}/libfoo.so.*"], "package": "libfoo1" }
  ]
}
EOF
src=(--mirror "$MIRROR_URL" --keyring "$MIRROR_KEYRING")

step "build --version 2.x --release-dir"
build "$WORK/profiles/tool.json" --version 2.x "${src[@]}" -o "$WORK/out" --release-dir "$WORK/rel" \
    --base-url http://127.0.0.1:1/tool >/dev/null
r=$WORK/rel/any/tool-2.1.0-x86-64
[ -f "$r/tool-2.1.0-x86-64.raw" ] || fail "no release named after the upstream version: $(find "$WORK/rel")"
(cd "$r" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c"

step "manifest.json: each package's source, version and SHA-256"
python3 - "$r/manifest.json" "$MIRROR_DIR" "$MIRROR_URL" <<'PY' || fail "manifest.json: $(cat "$r/manifest.json")"
import hashlib, json, os, sys
m, mirror, url = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
debs = {i["name"]: i for i in m["inputs"] if i["kind"] == "deb"}
assert sorted(debs) == ["libfoo1", "tool"], debs
assert debs["tool"]["version"] == "2.1.0-1" and debs["libfoo1"]["version"] == "1.2-1", debs
for d in debs.values():
    assert d["source"] == url + "/" + d["filename"], d
    data = open(os.path.join(mirror, d["filename"]), "rb").read()
    assert d["sha256"] == hashlib.sha256(data).hexdigest() and d["size"] == len(data), d
assert m["components"] == {"tool": "2.1.0-1", "libfoo": "1.2-1"}, m["components"]
assert m["version"] == "2.1.0", m
PY
grep -qP '^component\ttool\t2.1.0-1$' "$r/components.txt" || fail "components.txt: $(cat "$r/components.txt")"
grep -qP '^package\tlibfoo1\t1.2-1\t[0-9a-f]{64}$' "$r/components.txt" || fail "components.txt: $(cat "$r/components.txt")"

step "build --lock from the released lock file republishes the identical release"
snapshot() { (cd "$1" && find . -printf '%p %s %T@\n' | LC_ALL=C sort && sha256sum $(find . -type f | LC_ALL=C sort)); }
snapshot "$r" >"$WORK/before"
build "$WORK/profiles/tool.json" --lock "$r/tool-2.1.0-x86-64.lock.json" "${src[@]}" -o "$WORK/out-lock" \
    --release-dir "$WORK/rel" --base-url http://127.0.0.1:1/tool >"$WORK/lock.txt"
grep -q "already published, identical" "$WORK/lock.txt" || fail "not identical: $(cat "$WORK/lock.txt")"
snapshot "$r" | diff -u "$WORK/before" - || fail "the release changed"
echo "ok"

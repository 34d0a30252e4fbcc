#!/usr/bin/env bash
# `sysext-build matrix`: the release builds as GitHub's matrix JSON, read by
# python3's json. Every profile with release_versions takes part (one entry per
# version, architecture and release target, sorted), --profiles names them,
# --arch and --target filter, a profile without release_versions takes part
# only when named, and bad requests fail with exit 2 or 3 and a message.
source "$(dirname "$0")/lib/common.sh"
require_tool python3

profiles=$WORK/profiles
mkdir -p "$profiles"
cat >"$profiles/zeta.json" <<'EOF'
{
  "name": "zeta",
  "version_from": "zeta",
  "architectures": ["x86-64", "arm64"],
  "release_versions": ["2.x", "1.x"],
  "release_targets": ["two", "one"],
  "targets": {
    "one": { "release": {"ID": "_any"}, "sources": [{"type": "debian", "suite": "s", "packages": ["zeta"]}] },
    "two": { "release": {"ID": "_any"}, "sources": [{"type": "debian", "suite": "s", "packages": ["zeta"]}] },
    "sdk": { "release": {"ID": "_any"}, "requires": ["root"], "sources": [{"type": "directory", "path": "${root}"}] }
  }
}
EOF
cat >"$profiles/alpha.json" <<'EOF'
{
  "name": "alpha",
  "targets": { "any": { "release": {"ID": "_any"}, "sources": [{"type": "directory", "path": "x"}] } }
}
EOF
export SYSEXT_BUILD_PROFILES=$profiles
cd "$WORK"

check() { # check JSON-FILE PYTHON-EXPECTED-LIST
    python3 - "$1" "$2" <<'PY'
import ast, json, sys
j = json.load(open(sys.argv[1]))
assert list(j) == ["include"], j
got = [(e["profile"], e["version"], e["architecture"], e["target"]) for e in j["include"]]
assert all(sorted(e) == ["architecture", "profile", "target", "version"] for e in j["include"]), j
want = ast.literal_eval(sys.argv[2])
assert got == want, f"got {got}\nwant {want}"
PY
}

step "--profiles zeta: versions x architectures x release targets, sorted"
"$SYSEXT_BUILD" matrix --profiles zeta >"$WORK/zeta.json" 2>"$WORK/zeta.err"
[ "$(wc -l <"$WORK/zeta.json")" -eq 1 ] || fail "not one line: $(cat "$WORK/zeta.json")"
grep -qx "8 builds" "$WORK/zeta.err" || fail "no count on stderr: $(cat "$WORK/zeta.err")"
all=""
for v in 1.x 2.x; do for a in arm64 x86-64; do for t in one two; do
    all="$all('zeta', '$v', '$a', '$t'), "
done; done; done
check "$WORK/zeta.json" "[$all]" || fail "matrix --profiles zeta"

step "--arch and --target filter"
"$SYSEXT_BUILD" matrix --profiles zeta --arch arm64 --target one >"$WORK/f.json"
check "$WORK/f.json" "[('zeta', '1.x', 'arm64', 'one'), ('zeta', '2.x', 'arm64', 'one')]" || fail "filters"

step "every profile: those with release_versions only, including the repository's podman"
"$SYSEXT_BUILD" --quiet matrix --arch x86-64 >"$WORK/all.json"
python3 - "$WORK/all.json" <<'PY' || fail "matrix of every profile: $(cat "$WORK/all.json")"
import json, sys
inc = json.load(open(sys.argv[1]))["include"]
profiles = {e["profile"] for e in inc}
assert "zeta" in profiles and "alpha" not in profiles and "my-files" not in profiles, profiles
assert {"profile": "podman", "version": "5.x", "architecture": "x86-64", "target": "debian"} in inc, inc
assert all(e["architecture"] == "x86-64" for e in inc), inc
keys = [(e["profile"], e["version"], e["architecture"], e["target"]) for e in inc]
assert keys == sorted(keys) and len(set(keys)) == len(keys), keys
PY

step "a profile without release_versions when named: version latest, its default target"
"$SYSEXT_BUILD" matrix --profiles alpha >"$WORK/alpha.json"
check "$WORK/alpha.json" "[('alpha', 'latest', 'x86-64', 'any')]" || fail "matrix --profiles alpha"
"$SYSEXT_BUILD" --json matrix --profiles alpha zeta --arch x86-64 >"$WORK/two.json"
check "$WORK/two.json" "[('alpha', 'latest', 'x86-64', 'any'), ('zeta', '1.x', 'x86-64', 'one'), ('zeta', '1.x', 'x86-64', 'two'), ('zeta', '2.x', 'x86-64', 'one'), ('zeta', '2.x', 'x86-64', 'two')]" ||
    fail "matrix --profiles alpha zeta"
expect_fail '--target: "one" is not a target of' "$SYSEXT_BUILD" matrix --profiles alpha zeta --target one

step "bad requests"
expect_fail 'no profile named "nope"' "$SYSEXT_BUILD" matrix --profiles nope
rc=0; "$SYSEXT_BUILD" matrix --profiles nope 2>/dev/null || rc=$?; [ "$rc" -eq 3 ] || fail "unknown profile: exit $rc, want 3"
expect_fail '--arch: unknown architecture "amd64"' "$SYSEXT_BUILD" matrix --profiles zeta --arch amd64
rc=0; "$SYSEXT_BUILD" matrix --profiles zeta --arch amd64 2>/dev/null || rc=$?; [ "$rc" -eq 2 ] || fail "bad --arch: exit $rc, want 2"
expect_fail 'target "sdk" needs --set root' "$SYSEXT_BUILD" matrix --profiles zeta --target sdk
expect_fail '--target: "nine" is not a target of' "$SYSEXT_BUILD" matrix --profiles zeta --target nine
expect_fail 'no builds' "$SYSEXT_BUILD" matrix --profiles zeta --arch riscv64
cat >"$profiles/bad.json" <<'EOF'
{
  "name": "bad",
  "release_versions": ["5.x"],
  "release_targets": ["nowhere"],
  "targets": { "any": { "release": {"ID": "_any"}, "sources": [{"type": "directory", "path": "x"}] } }
}
EOF
expect_fail 'bad.json:4: release target "nowhere" is not a target' "$SYSEXT_BUILD" matrix --profiles bad
expect_fail '"release_versions" needs "version_from"' "$SYSEXT_BUILD" matrix --profiles bad
echo "ok"

#!/usr/bin/env bash
# Files of an image that a typical host already has (issue 12): merged, they
# replace the host's for every program. build (a target's "host_files") and
# inspect --host-files name them, with how many are libraries, against
# profiles/base/debian-13-standard-amd64.files (a standard Debian 13 install).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
cd "$WORK"
listing=$SOURCE_DIR/profiles/base/debian-13-standard-amd64.files
for f in usr/bin/wget usr/lib/x86_64-linux-gnu/libz.so.1 usr/lib/x86_64-linux-gnu/libreadline.so.8; do
    grep -qx "/$f" "$listing" || fail "the standard listing lacks /$f; the test needs another example"
done
mkdir -p tree/usr/lib/x86_64-linux-gnu tree/usr/bin
for f in usr/bin/wget usr/lib/x86_64-linux-gnu/libz.so.1 usr/lib/x86_64-linux-gnu/libreadline.so.8 usr/bin/mytool; do
    echo "$f" >"tree/$f"
done
cat >ov.json <<EOF
{ "name": "ov",
  "targets": { "any": { "release": { "ID": "_any" }, "requires": ["version"],
    "host_files": "$listing",
    "sources": [{ "type": "directory", "path": "tree" }] } } }
EOF
want="the image replaces 3 files of the host listed in $listing (2 libraries) for every program while merged: usr/bin/wget usr/lib/x86_64-linux-gnu/libreadline.so.8 usr/lib/x86_64-linux-gnu/libz.so.1"

step "build warns, names them, and counts them in its summary and --json"
"$SYSEXT_BUILD" build ov.json --set version=1 --no-elf-check -o out >summary.txt 2>err.txt
grep -qxF "sysext-build: warning: $want" err.txt || fail "build's warning: $(cat err.txt)"
grep -qxF "  host    3 files replace the host's ($listing)" summary.txt || fail "summary: $(cat summary.txt)"
"$SYSEXT_BUILD" --json build ov.json --set version=1 --no-elf-check -o out2 >build.json 2>/dev/null
python3 - build.json "$listing" <<'PY' || fail "build --json: $(cat build.json)"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["host_listing"] == sys.argv[2], j
assert j["host_overlays"] == ["usr/bin/wget", "usr/lib/x86_64-linux-gnu/libreadline.so.8",
                              "usr/lib/x86_64-linux-gnu/libz.so.1"], j
PY

step "inspect --host-files says the same of the image"
"$SYSEXT_BUILD" inspect out/ov.raw --host-files "$listing" >inspect.txt || fail "inspect: $(cat inspect.txt)"
grep -qxF "note: $want" inspect.txt || fail "inspect: $(cat inspect.txt)"
"$SYSEXT_BUILD" --json inspect out/ov.raw --host-files "$listing" >inspect.json
python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); assert len(j["host_overlays"]) == 3, j' inspect.json ||
    fail "inspect --json: $(cat inspect.json)"

step "an image that replaces nothing says nothing"
rm tree/usr/bin/wget tree/usr/lib/x86_64-linux-gnu/*
"$SYSEXT_BUILD" build ov.json --set version=1 --no-elf-check -o out3 >summary3.txt 2>err3.txt
grep -q "replaces" err3.txt && fail "a warning for nothing: $(cat err3.txt)"
grep -qxF "  host    0 files replace the host's ($listing)" summary3.txt || fail "summary: $(cat summary3.txt)"
echo PASS

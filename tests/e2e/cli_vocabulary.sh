#!/usr/bin/env bash
# The command line as a new user meets it: `help [COMMAND]`, "did you mean"
# for a mistyped command or flag (exit 2, the exact message), --quiet
# keeping only errors (no warnings), --set and --arch mistakes named.
source "$(dirname "$0")/lib/common.sh"

exit_of() { local rc=0; "$@" >/dev/null 2>&1 || rc=$?; echo "$rc"; }

step "help and help COMMAND"
"$SYSEXT_BUILD" help | grep -q "^Usage: sysext-build \[OPTIONS\] SUBCOMMAND" || fail "help: $("$SYSEXT_BUILD" help 2>&1 | head -3)"
"$SYSEXT_BUILD" help pack | grep -q "^Usage: sysext-build pack \[OPTIONS\] SOURCE" || fail "help pack"
[ "$(exit_of "$SYSEXT_BUILD" help inspect)" = 0 ] || fail "help inspect did not exit 0"

step "a mistyped command: exit 2, the nearest command named"
err=$("$SYSEXT_BUILD" biuld podman 2>&1 >/dev/null) && fail "biuld succeeded"
[ "$err" = 'sysext-build: error: unknown command "biuld" (did you mean "build"?); see sysext-build help' ] ||
    fail "biuld: $err"
[ "$(exit_of "$SYSEXT_BUILD" biuld podman)" = 2 ] || fail "biuld: not exit 2"

step "a mistyped flag: the nearest flag of that command"
mkdir -p "$WORK/t/usr/bin"
echo x >"$WORK/t/usr/bin/x"
expect_fail "(did you mean --compression?) (see sysext-build help pack)" \
    "$SYSEXT_BUILD" pack "$WORK/t" -o "$WORK/x.raw" --compresion xz
[ "$(exit_of "$SYSEXT_BUILD" pack "$WORK/t" -o "$WORK/x.raw" --compresion xz)" = 2 ] || fail "not exit 2"

step "positional names are upper case in every --help"
for c in build pack sign verify inspect publish fetch-deb elf-check "payload create" "payload hash" \
    "payload attach" "payload verify" "payload inspect"; do
    usage=$("$SYSEXT_BUILD" help $c | grep "^Usage:")
    positionals=$(printf '%s\n' "$usage" | sed 's/\[OPTIONS\]//; s/^Usage: sysext-build //' | tr ' []\.' '\n' |
        grep -v -x -e '' -e ${c// / -e })
    ! printf '%s\n' "$positionals" | grep -q '[a-z]' || fail "help $c: $usage"
done

step "one name per setting: --download-cache, --cache-max-size, --max-download-size"
for c in build fetch-deb; do
    "$SYSEXT_BUILD" help $c | grep -- "--download-cache" >/dev/null || fail "help $c lacks --download-cache"
done
for c in build pack "cache prune"; do
    "$SYSEXT_BUILD" help $c | grep -- "--cache-max-size" >/dev/null || fail "help $c lacks --cache-max-size"
done
"$SYSEXT_BUILD" help fetch-deb | grep -- "--max-download-size" >/dev/null || fail "help fetch-deb lacks --max-download-size"
for c in "cache prune" fetch-deb build pack; do
    if "$SYSEXT_BUILD" help $c | grep -- "--max-size " >/dev/null; then fail "help $c: a bare --max-size is left"; fi
done

step "--quiet: no warnings"
"$SYSEXT_BUILD" build "$SOURCE_DIR/profiles/my-files.json" --set root="$WORK/t" --set version=1 -o "$WORK/o1" \
    2>"$WORK/loud" >/dev/null
grep -q "warning: ELF check of libraries skipped" "$WORK/loud" || fail "the test expects a warning without --quiet: $(cat "$WORK/loud")"
"$SYSEXT_BUILD" --quiet build "$SOURCE_DIR/profiles/my-files.json" --set root="$WORK/t" --set version=1 -o "$WORK/o2" \
    2>"$WORK/quiet" >/dev/null
[ ! -s "$WORK/quiet" ] || fail "--quiet printed: $(cat "$WORK/quiet")"
step "--set: a variable the profile does not use, one sysext-build sets, a package's version: exit 2"
mf=$SOURCE_DIR/profiles/my-files.json
expect_exit 2 "sysext-build: error: --set rot: $mf (target \"any\") uses no variable \${rot}; did you mean root? (it takes: root, version)" \
    "$SYSEXT_BUILD" build "$mf" --set root="$WORK/t" --set version=1 --set rot=1 -o "$WORK/o3"
expect_exit 2 "sysext-build: error: --set arch: \${arch} is set by sysext-build from --arch" \
    "$SYSEXT_BUILD" build "$mf" --set root="$WORK/t" --set version=1 --set arch=arm64 -o "$WORK/o3"
expect_exit 2 "sysext-build: error: --set version=1.0: $SOURCE_DIR/profiles/podman.json takes its version from the package \"podman\"; choose it with --version PATTERN, or make a new release of the same version with --revision N" \
    "$SYSEXT_BUILD" build podman --set version=1.0 -o "$WORK/o3"
step "every missing required variable at once"
expect_exit 2 "sysext-build: error: target \"any\" needs --set root=VALUE --set version=VALUE" \
    "$SYSEXT_BUILD" build "$mf" -o "$WORK/o3"
[ ! -e "$WORK/o3" ] || fail "a refused build left $WORK/o3 behind"

step "a profile's tree with etc/: the error names the profile keys that fix it"
mkdir -p "$WORK/withetc/usr/bin" "$WORK/withetc/etc/tool"
echo x >"$WORK/withetc/usr/bin/tool"
echo y >"$WORK/withetc/etc/tool/tool.conf"
expect_exit 3 "sysext-build: error: $mf: etc: only usr/ and opt/ are merged by systemd-sysext; exclude it (\"exclude\": [\"etc/**\"]) or keep its files as the host's defaults (\"move\": [{\"from\": \"etc/DIR\", \"to\": \"usr/share/NAME/etc/DIR\", \"etc_defaults\": true}])" \
    "$SYSEXT_BUILD" build "$mf" --set root="$WORK/withetc" --set version=1 -o "$WORK/o4"

step "profile errors name the profile's file and line"
printf '{\n  "name": "pe",\n  "targets": {\n    "any": {"release": {"ID": "_any", "VERSION_ID": "a b"},\n      "sources": [{"type": "directory", "path": "%s"}]}}}\n' "$WORK/t" >"$WORK/pe1.json"
expect_exit 3 "sysext-build: error: $WORK/pe1.json:4: VERSION_ID \"a b\" is not a valid os-release VERSION_ID" \
    "$SYSEXT_BUILD" build "$WORK/pe1.json" --set version=1 -o "$WORK/ope"
printf '{\n  "name": "pe",\n  "targets": {\n    "any": {"release": {"ID": "_any"},\n      "sources": [\n        {"type": "directory", "path": "nonexist"}]}}}\n' >"$WORK/pe2.json"
expect_exit 5 "sysext-build: error: $WORK/pe2.json:6: directory source: $WORK/nonexist: No such file or directory" \
    "$SYSEXT_BUILD" build "$WORK/pe2.json" --set version=1 -o "$WORK/ope"

step "--arch takes systemd's names; another scheme's name gets systemd's"
expect_exit 2 "sysext-build: error: --arch: unknown architecture \"aarch64\" (did you mean \"arm64\"?); systemd's names: x86-64, arm64, ..." \
    "$SYSEXT_BUILD" build "$mf" --set root="$WORK/t" --set version=1 --arch aarch64 -o "$WORK/o3"
step "pack --name N -o N-VERSION-ARCH.raw: the release file says user.extension-release.strict=0, as build's"
mkdir -p "$WORK/named"
"$SYSEXT_BUILD" -q pack "$WORK/t" -o "$WORK/named/tool-1.0-x86-64.raw" --name tool --os-id _any ||
    fail "pack --name tool -o tool-1.0-x86-64.raw"
"$SYSEXT_BUILD" inspect "$WORK/named/tool-1.0-x86-64.raw" >"$WORK/named.txt" || fail "inspect: $(cat "$WORK/named.txt")"
source "$(dirname "$0")/lib/sysext_root.sh"
make_root "$WORK/host" "$WORK/named/tool-1.0-x86-64.raw" ID=debian VERSION_ID=13
[ "$(merges "$WORK/host" usr/lib/extension-release.d/extension-release.tool)" = merged ] ||
    fail "systemd-sysext did not merge tool-1.0-x86-64.raw"
expect_exit 3 "(with --no-xattrs the release file cannot say user.extension-release.strict=0)" \
    "$SYSEXT_BUILD" pack "$WORK/t" -o "$WORK/named/t2-1.0.raw" --name t2 --os-id _any --no-xattrs

step "a missing output directory is named as such"
expect_exit 5 "sysext-build: error: $WORK/missingdir/x.raw: directory $WORK/missingdir does not exist" \
    "$SYSEXT_BUILD" pack "$WORK/t" -o "$WORK/missingdir/x.raw" --os-id _any
expect_exit 5 "sysext-build: error: $WORK/missingdir/p.gz: directory $WORK/missingdir does not exist" \
    "$SYSEXT_BUILD" payload create "$WORK/o1/my-files.raw" --payload-signatures 1 -o "$WORK/missingdir/p.gz"

step "the summary says when the ELF check was skipped, and what the block cache gave"
"$SYSEXT_BUILD" build "$mf" --set root="$WORK/t" --set version=1 --no-elf-check -o "$WORK/o5" >"$WORK/sum1" 2>/dev/null
grep -qx "  ELF check skipped (--no-elf-check)" "$WORK/sum1" || fail "summary: $(cat "$WORK/sum1")"
grep -q "checked 0 ELF files" "$WORK/sum1" && fail "summary claims an ELF check: $(cat "$WORK/sum1")"
XDG_CACHE_HOME=$WORK/xdg "$SYSEXT_BUILD" build "$mf" --set root="$WORK/t" --set version=1 --compression xz -o "$WORK/o6" >/dev/null 2>&1
XDG_CACHE_HOME=$WORK/xdg "$SYSEXT_BUILD" build "$mf" --set root="$WORK/t" --set version=1 --compression xz -o "$WORK/o7" >"$WORK/sum2" 2>/dev/null
grep -qx "  cache   1 of 1 blocks and payload chunks from the cache" "$WORK/sum2" || fail "cache line: $(cat "$WORK/sum2")"
XDG_CACHE_HOME=$WORK/xdg "$SYSEXT_BUILD" --json build "$mf" --set root="$WORK/t" --set version=1 --no-elf-check \
    -o "$WORK/o8" >"$WORK/build.json" 2>/dev/null
python3 - "$WORK/build.json" <<'PY' || fail "build --json: $(cat "$WORK/build.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["elf_files_checked"] is None, j
assert isinstance(j["block_cache"], dict) and "hits" in j["block_cache"], j
assert j["extension_release"]["ID"] == "_any", j
PY

step "JSON: one key style (snake_case) in every command's output, absent values null"
"$SYSEXT_BUILD" --json keygen -o "$WORK/keys" >"$WORK/keygen.json"
mkdir "$WORK/p"
"$SYSEXT_BUILD" -q pack "$WORK/t" -o "$WORK/p/demo.raw" --os-id _any
"$SYSEXT_BUILD" --json sign "$WORK/p/demo.raw" --key "$WORK/keys/development.key" \
    --cert "$WORK/keys/development.crt" >"$WORK/sign.json"
"$SYSEXT_BUILD" --json verify "$WORK/p/demo.raw" --cert "$WORK/keys/development.crt" >"$WORK/verify.json"
"$SYSEXT_BUILD" --json elf-check "$WORK/t" >"$WORK/elf.json" || true
"$SYSEXT_BUILD" --json inspect "$WORK/p/demo.raw" >"$WORK/inspect.json" || true
mkdir -p "$WORK/norel"
"$SYSEXT_BUILD" -q pack "$WORK/t" -o "$WORK/norel/other.raw" --name other --os-id _any
mv "$WORK/norel/other.raw" "$WORK/norel/renamed.raw"
"$SYSEXT_BUILD" --json inspect "$WORK/norel/renamed.raw" >"$WORK/inspect-norel.json" || true
step "--ddi means the same in build and sign: the image becomes a signed disk image (or -o FILE)"
mkdir "$WORK/inplace"
"$SYSEXT_BUILD" -q pack "$WORK/t" -o "$WORK/inplace/demo.raw" --os-id _any --arch x86-64
"$SYSEXT_BUILD" -q sign "$WORK/inplace/demo.raw" --ddi --key "$WORK/keys/development.key" \
    --cert "$WORK/keys/development.crt"
sfdisk --dump "$WORK/inplace/demo.raw" 2>/dev/null | grep -q "^label: gpt" || fail "sign --ddi did not make demo.raw a disk image"
ls "$WORK/inplace" | grep -q verity && fail "sign --ddi wrote sidecars"
"$SYSEXT_BUILD" -q verify "$WORK/inplace/demo.raw" --cert "$WORK/keys/development.crt" || fail "verify the disk image"
expect_exit 2 "sysext-build: error: -o/--output is for --ddi: sidecar files go next to IMAGE" \
    "$SYSEXT_BUILD" sign "$WORK/p/demo.raw" -o "$WORK/elsewhere.raw" --key "$WORK/keys/development.key" \
    --cert "$WORK/keys/development.crt"

python3 - "$WORK" <<'PY' || fail "JSON keys or absent values"
import json, re, sys
w = sys.argv[1]
def keys(v):
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            if k not in ("extension_release", "release", "fields"): # os-release KEYs: data
                yield from keys(x)
    elif isinstance(v, list):
        for x in v:
            yield from keys(x)
for name in ("keygen", "sign", "verify", "elf", "build", "inspect"):
    doc = json.load(open(f"{w}/{name}.json"))
    bad = [k for k in keys(doc) if not re.fullmatch(r"[a-z0-9_]+", k)]
    assert not bad, (name, bad)
sign = json.load(open(f"{w}/sign.json"))
assert "architecture" in sign and sign["architecture"] is None, sign  # an _any image names none
# An unsigned image names no root hash or signer.
norel = json.load(open(f"{w}/inspect-norel.json"))
assert norel["verity"]["root_hash"] is None and norel["signature"]["subject"] is None, norel
assert norel["signature"]["fingerprint"] is None, norel
verify = json.load(open(f"{w}/verify.json"))
assert verify["release_file"] == "extension-release.demo" and len(verify["root_hash"]) == 64, verify
PY
echo PASS

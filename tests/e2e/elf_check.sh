# sysext-build elf-check on real binaries of this machine: passes against this
# machine's root and a listing of it; fails (exit 4) naming the binary and the
# library when a base root lacks a library readelf says is needed, naming the
# machine for a copy whose e_machine is patched (readelf confirms the patch),
# and naming the file for a truncated ELF.
source "$(dirname "$0")/lib/common.sh"
require_tool readelf python3 find

[ "$(uname -m)" = x86_64 ] || fail "this test expects an x86-64 build machine"
bin=/bin/ls
multiarch=usr/lib/x86_64-linux-gnu
mapfile -t needed < <(readelf -dW "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
interp=$(readelf -lW "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
[ "${#needed[@]}" -ge 2 ] || fail "$bin needs fewer than two libraries: ${needed[*]}"
[ -n "$interp" ] || fail "$bin has no interpreter"

tree=$WORK/tree
mkdir -p "$tree/usr/bin"
cp "$bin" "$tree/usr/bin/ls"

step "a real binary passes against this machine's root and against a listing of it"
"$SYSEXT_BUILD" elf-check "$tree" --arch x86-64 --base-root /
find /usr/lib /usr/lib64 -name '*.so*' >"$WORK/listing"
"$SYSEXT_BUILD" elf-check "$tree" --arch x86-64 --base-list "$WORK/listing"

step "a copy patched to AArch64 fails the machine check"
python3 - "$bin" "$tree/usr/bin/podman" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<H", data, 18, 183)  # e_machine = EM_AARCH64
open(sys.argv[2], "wb").write(data)
EOF
readelf -h "$tree/usr/bin/podman" | grep -q 'Machine: *AArch64' || fail "patch did not make AArch64"
rc=0
err=$("$SYSEXT_BUILD" elf-check "$tree" --arch x86-64 --base-root / 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 4 ] || fail "exit code $rc, want 4: $err"
[ "$err" = "sysext-build: error: usr/bin/podman: machine AArch64 does not match ARCHITECTURE=x86-64" ] ||
    fail "unexpected error: $err"
expect_fail "usr/bin/ls: machine x86-64 does not match ARCHITECTURE=arm64" \
    "$SYSEXT_BUILD" elf-check "$tree" --arch arm64 --base-root /
rm "$tree/usr/bin/podman"

step "the tree's own ARCHITECTURE= is used without --arch"
mkdir -p "$tree/usr/lib/extension-release.d"
printf 'ID=debian\nARCHITECTURE=arm64\n' >"$tree/usr/lib/extension-release.d/extension-release.e2e"
expect_fail "usr/bin/ls: machine x86-64 does not match ARCHITECTURE=arm64" \
    "$SYSEXT_BUILD" elf-check "$tree" --base-root /
rm -r "$tree/usr/lib/extension-release.d"

step "a base root without ${needed[-1]} fails naming the binary and the library"
base=$WORK/base
mkdir -p "$base/$multiarch" "$base/usr/lib64"
ln -s usr/lib "$base/lib"
ln -s usr/lib64 "$base/lib64"
cp -L "$interp" "$base/usr/lib64/$(basename "$interp")"
for lib in "${needed[@]:0:${#needed[@]}-1}"; do
    cp -L "/$multiarch/$lib" "$base/$multiarch/$lib"
done
missing=${needed[-1]}
rc=0
err=$("$SYSEXT_BUILD" elf-check "$tree" --arch x86-64 --base-root "$base" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 4 ] || fail "exit code $rc, want 4: $err"
[ "$err" = "sysext-build: error: usr/bin/ls: needs $missing, found neither in the extension nor in the base system" ] ||
    fail "unexpected error: $err"

step "the same library carried by the extension satisfies the check"
mkdir -p "$tree/$multiarch"
cp -L "/$multiarch/$missing" "$tree/$multiarch/$missing"
"$SYSEXT_BUILD" --json elf-check "$tree" --arch x86-64 --base-root "$base" >"$WORK/ok.json"
python3 - "$WORK/ok.json" <<'EOF'
import json, sys
out = json.load(open(sys.argv[1]))
assert out["ok"] is True, out
t = out["trees"][0]
assert t["elf_files"] == 2 and t["problems"] == [], t
EOF
rm -r "${tree:?}/usr/lib"

step "without the interpreter, the interpreter is named"
rm "$base/usr/lib64/$(basename "$interp")"
cp -L "/$multiarch/$missing" "$base/$multiarch/$missing"
expect_fail "usr/bin/ls: interpreter $interp found neither in the extension nor in the base system" \
    "$SYSEXT_BUILD" elf-check "$tree" --arch x86-64 --base-root "$base"

step "a truncated ELF file is an error naming it, not a crash"
head -c 300 "$bin" >"$tree/usr/bin/broken"
rc=0
"$SYSEXT_BUILD" --json elf-check "$tree" --arch x86-64 --base-root / >"$WORK/bad.json" 2>"$WORK/bad.err" || rc=$?
[ "$rc" -eq 4 ] || fail "exit code $rc, want 4: $(cat "$WORK/bad.err")"
grep -q '^sysext-build: error: usr/bin/broken: truncated ELF file: ' "$WORK/bad.err" ||
    fail "no truncation error: $(cat "$WORK/bad.err")"
python3 - "$WORK/bad.json" <<'EOF'
import json, sys
out = json.load(open(sys.argv[1]))
assert out["ok"] is False, out
problems = out["trees"][0]["problems"]
assert len(problems) == 1 and problems[0].startswith("usr/bin/broken: truncated ELF file"), problems
EOF

step "usage errors"
expect_fail 'unknown architecture (did you mean "x86-64"?)' \
    "$SYSEXT_BUILD" elf-check "$tree" --arch x86_64
expect_fail "excludes" \
    "$SYSEXT_BUILD" elf-check "$tree" --base-root / --base-list "$WORK/listing"
expect_fail "base root is not a directory" \
    "$SYSEXT_BUILD" elf-check "$tree" --base-root "$WORK/listing"

#!/usr/bin/env bash
# sysext-build verify fails, naming what is wrong, after any one byte of the
# image, the hash tree, the root hash, the signature or a disk image changes
# (many random positions), and with the wrong certificate.
source "$(dirname "$0")/lib/common.sh"
require_tool mksquashfs python3
cd "$WORK"

root="$WORK/root"
mkdir -p "$root/usr/lib/extension-release.d" "$root/usr/share/demo" a ddi
printf 'ID=_any\nARCHITECTURE=x86-64\n' >"$root/usr/lib/extension-release.d/extension-release.demo"
python3 -c 'import random,sys; random.seed(3); sys.stdout.buffer.write(random.randbytes(600000))' \
    >"$root/usr/share/demo/blob"
mksquashfs "$root" a/demo.raw -all-root -noappend -quiet >/dev/null
truncate -s %4096 a/demo.raw
"$SYSEXT_BUILD" -q keygen -o keys
"$SYSEXT_BUILD" -q keygen -o other
"$SYSEXT_BUILD" -q sign a/demo.raw --key keys/development.key --cert keys/development.crt
"$SYSEXT_BUILD" -q sign a/demo.raw --key keys/development.key --cert keys/development.crt \
    --ddi -o ddi/demo.raw
"$SYSEXT_BUILD" -q verify a/demo.raw --cert keys/development.crt || fail "untouched image fails"
"$SYSEXT_BUILD" -q verify ddi/demo.raw --cert keys/development.crt || fail "untouched disk fails"

step "one changed byte at random positions"
# SEED can be set to replay a failure; the seed used is printed.
SEED=${SEED:-$RANDOM}
echo "seed $SEED"
python3 - "$SYSEXT_BUILD" "$SEED" <<'PY' || fail "a changed byte went unnoticed or unnamed (seed $SEED)"
import os, random, re, subprocess, sys
tool, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
cert = "keys/development.crt"
# file, positions to try, what the message must name
targets = [
    ("a/demo.raw", 60, r"verity tree: a/demo\.raw: data block \d+ \(bytes \d+-\d+\) does not match"),
    ("a/demo.verity", 60, r"a/demo\.verity"),
    ("a/demo.roothash", 40, r"root hash|demo\.roothash"),
    ("a/demo.roothash.p7s", 80, r"signature: a/demo\.roothash\.p7s: "),
    ("ddi/demo.raw", 150, r"ddi/demo\.raw"),
]
failures = 0
for path, count, want in targets:
    size = os.path.getsize(path)
    image = path if path.endswith("demo.raw") else "a/demo.raw"
    for _ in range(count):
        pos = rng.randrange(size)
        with open(path, "r+b") as f:
            f.seek(pos); old = f.read(1)[0]
            new = old ^ rng.randrange(1, 256)
            f.seek(pos); f.write(bytes([new]))
        r = subprocess.run([tool, "verify", image, "--cert", cert], capture_output=True, text=True)
        with open(path, "r+b") as f:
            f.seek(pos); f.write(bytes([old]))
        ok = (r.returncode == 4 and r.stderr.startswith("sysext-build: error: ")
              and re.search(want, r.stderr))
        if not ok:
            failures += 1
            print(f"{path} byte {pos} {old:#04x}->{new:#04x}: exit {r.returncode}: {r.stderr.strip()}")
    print(f"{path}: {count} positions checked")
sys.exit(1 if failures else 0)
PY

step "missing and wrong companions"
expect_fail "signature: a/demo.roothash.p7s: signature does not verify with other/development.crt" \
    "$SYSEXT_BUILD" verify a/demo.raw --cert other/development.crt
expect_fail "certificateFingerprint" "$SYSEXT_BUILD" verify ddi/demo.raw --cert other/development.crt
rc=0
"$SYSEXT_BUILD" verify a/demo.raw --cert other/development.crt >/dev/null 2>&1 || rc=$?
[ "$rc" = 4 ] || fail "verify with the wrong certificate exits $rc, not 4"
mv a/demo.roothash.p7s saved.p7s
expect_fail "a/demo.roothash.p7s: No such file or directory" \
    "$SYSEXT_BUILD" verify a/demo.raw --cert keys/development.crt
mv saved.p7s a/demo.roothash.p7s
printf '%s\n' "$(tr a-f A-F <a/demo.roothash)" >upper && cp a/demo.roothash saved.roothash
cp upper a/demo.roothash
expect_fail "a/demo.roothash: not a lowercase hex SHA-256 root hash" \
    "$SYSEXT_BUILD" verify a/demo.raw --cert keys/development.crt
cp saved.roothash a/demo.roothash
"$SYSEXT_BUILD" -q verify a/demo.raw --cert keys/development.crt || fail "restored image fails"
echo PASS

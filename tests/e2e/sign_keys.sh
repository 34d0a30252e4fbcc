#!/usr/bin/env bash
# Keys: encrypted PEM keys with the passphrase from a descriptor or a variable
# (never the command line), refusal of keys others can read, no signed-looking
# output after a failed signing, and no trace of the private key in any output
# or log.
source "$(dirname "$0")/lib/common.sh"
require_tool mksquashfs openssl python3
cd "$WORK"

root="$WORK/root"
mkdir -p "$root/usr/lib/extension-release.d" img ddi
printf 'ID=_any\nARCHITECTURE=x86-64\n' >"$root/usr/lib/extension-release.d/extension-release.demo"
head -c 100000 /dev/zero >"$root/usr/lib/zeros"
mksquashfs "$root" img/demo.raw -all-root -noappend -quiet >/dev/null
truncate -s %4096 img/demo.raw
log="$WORK/all.log"
run() { "$SYSEXT_BUILD" "$@" >>"$log" 2>&1; }

no_signed_output() { # no_signed_output CONTEXT: nothing signed-looking next to the image
    local f
    for f in img/demo.verity img/demo.roothash img/demo.roothash.p7s ddi/demo.raw; do
        [ ! -e "$f" ] || fail "$1: $f exists after a failed signing"
    done
    ! ls -a img ddi | grep -q '\.tmp-' || fail "$1: a temporary file was left behind"
}

step "development key; a key others can read is refused unless forced"
run keygen -o keys
chmod 0644 keys/development.key
expect_fail "keys/development.key" "$SYSEXT_BUILD" sign img/demo.raw \
    --key keys/development.key --cert keys/development.crt
no_signed_output "group-readable key"
run sign img/demo.raw --key keys/development.key --cert keys/development.crt --force-insecure-key
rm -f img/demo.verity img/demo.roothash img/demo.roothash.p7s
chmod 0600 keys/development.key

step "an encrypted key, passphrase from an environment variable and from a descriptor"
openssl pkey -in keys/development.key -aes256 -passout pass:correct-horse-battery -out enc.key
chmod 0600 enc.key
expect_fail "passphrase variable NO_SUCH_VARIABLE is not set" "$SYSEXT_BUILD" sign img/demo.raw \
    --key enc.key --cert keys/development.crt --passphrase-env NO_SUCH_VARIABLE
no_signed_output "unset passphrase variable"
SIGN_PASS=wrong-passphrase expect_fail "enc.key" "$SYSEXT_BUILD" sign img/demo.raw \
    --key enc.key --cert keys/development.crt --passphrase-env SIGN_PASS
no_signed_output "wrong passphrase"
SIGN_PASS=correct-horse-battery run sign img/demo.raw --key enc.key --cert keys/development.crt \
    --passphrase-env SIGN_PASS
cp img/demo.roothash.p7s env.p7s
rm img/demo.verity img/demo.roothash img/demo.roothash.p7s
run sign img/demo.raw --key enc.key --cert keys/development.crt --passphrase-fd 3 \
    3< <(printf 'correct-horse-battery\n')
cmp env.p7s img/demo.roothash.p7s || fail "the encrypted key signs differently from the plain one"
run verify img/demo.raw --cert keys/development.crt
rm img/demo.verity img/demo.roothash img/demo.roothash.p7s
"$SYSEXT_BUILD" sign --help | grep -q -- "--passphrase " && fail "a --passphrase option exists"

step "build: one encrypted key for image and payload, one --passphrase-fd; a readable payload key fails first"
mkdir -p tree/usr/bin
printf '#!/bin/sh\necho x\n' >tree/usr/bin/x
chmod 0755 tree/usr/bin/x
my_files=(build "$SOURCE_DIR/profiles/my-files.json" --set root="$WORK/tree" --set version=1.0)
"$SYSEXT_BUILD" -q "${my_files[@]}" -o b1 --key enc.key --cert keys/development.crt --payload-key enc.key \
    --passphrase-fd 3 3< <(printf 'correct-horse-battery\n') >>"$log" 2>&1 ||
    fail "build with one passphrase for --key and --payload-key: $(tail -3 "$log")"
[ -f b1/my-files.roothash.p7s ] && [ -f b1/my-files.gz ] || fail "build did not sign both: $(ls b1)"
cp enc.key readable.key
chmod 0644 readable.key
expect_fail "readable.key" "$SYSEXT_BUILD" "${my_files[@]}" -o b2 --key enc.key --cert keys/development.crt \
    --payload-key readable.key --passphrase-fd 3 3< <(printf 'correct-horse-battery\n')
[ ! -e b2/my-files.raw ] || fail "the image was written before the payload key was refused"

step "a key named by an OpenSSL store URI signs the same"
run sign img/demo.raw --key "file:$WORK/keys/development.key" --cert keys/development.crt
cmp env.p7s img/demo.roothash.p7s || fail "file: URI key signs differently"
rm img/demo.verity img/demo.roothash img/demo.roothash.p7s

step "a certificate of another key: nothing is written"
run keygen -o other
expect_fail "other/development.crt: certificate does not belong to" "$SYSEXT_BUILD" sign \
    img/demo.raw --key keys/development.key --cert other/development.crt
expect_fail "does not belong to" "$SYSEXT_BUILD" sign img/demo.raw \
    --key keys/development.key --cert other/development.crt --ddi -o ddi/demo.raw
no_signed_output "mismatched certificate"

step "the private key appears in no output and no log"
run sign img/demo.raw --key keys/development.key --cert keys/development.crt
run --json sign img/demo.raw --key keys/development.key --cert keys/development.crt --ddi -o ddi/demo.raw
run -v verify ddi/demo.raw --cert keys/development.crt
run --json verify img/demo.raw --cert keys/development.crt
SIGN_PASS=wrong expect_fail "" "$SYSEXT_BUILD" -v sign img/demo.raw --key enc.key \
    --cert keys/development.crt --passphrase-env SIGN_PASS 2>>"$log"
python3 - keys/development.key enc.key "$log" img/demo.verity img/demo.roothash \
    img/demo.roothash.p7s ddi/demo.raw <<'PY' || fail "private key material found in an output"
import base64, subprocess, sys
pem = open(sys.argv[1]).read()
body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
der = base64.b64decode(body)
# The private exponent and primes, as big-endian bytes, from openssl's own parse.
text = subprocess.run(["openssl", "pkey", "-in", sys.argv[1], "-noout", "-text"],
                      capture_output=True, text=True, check=True).stdout
secrets = [der]
for name in ("privateExponent", "prime1", "prime2"):
    block = text.split(name + ":")[1]
    hexdigits = ""
    for line in block.splitlines()[1:]:
        if not line.startswith("    "):
            break
        hexdigits += line.strip().replace(":", "")
    secrets.append(bytes.fromhex(hexdigits).lstrip(b"\0"))
# The detector must find what it looks for where it is known to be.
assert all(der.find(s[:24]) >= 0 for s in secrets[1:]), "key parse failed"
lines = [l for l in pem.splitlines() if not l.startswith("-----")]
enc_lines = [l for l in open(sys.argv[2]).read().splitlines() if not l.startswith("-----")]
for path in sys.argv[3:]:
    data = open(path, "rb").read()
    for s in secrets:
        assert data.find(s[:24]) < 0, f"{path} contains private key bytes"
    for l in lines + enc_lines:
        assert l.encode() not in data, f"{path} contains a line of a private key PEM"
    assert b"correct-horse-battery" not in data, f"{path} contains the passphrase"
print("checked", len(sys.argv) - 3, "files")
PY
echo PASS

#!/usr/bin/env bash
# SHA256SUMS signed with a GnuPG key (--gpg-key, --gpg-homedir), judged by
# gpgv and by gpg run the way systemd-pull runs it for systemd-sysupdate
# (--no-default-keyring, a fresh home, one keyring file, the signature against
# SHA256SUMS on stdin). The transfers say Verify=yes when signed and Verify=no
# (with a warning) when not; the signature is a lone signature packet (gpg
# --list-packets: no key material in it) and no other file of the release
# changes; a tampered SHA256SUMS or another key's keyring fails; a key gpg does
# not have is refused before anything is built or written; publishing the same
# release again keeps its signature (a signature carries its time).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool gpg gpgv gpgconf sha256sum python3 cmp

# Throwaway keys in a private home; its agent is stopped when the test ends.
gnupg=$WORK/gnupg
mkdir -m 700 "$gnupg"
trap 'gpgconf --homedir "$gnupg" --kill gpg-agent 2>/dev/null || true; cleanup_work' EXIT
g() { gpg --homedir "$gnupg" --batch --quiet "$@"; }
g --passphrase '' --quick-gen-key "sysext test <release@127.0.0.1>" ed25519 sign never 2>/dev/null
g --passphrase '' --quick-gen-key "someone else <other@127.0.0.1>" ed25519 sign never 2>/dev/null
fpr=$(g --with-colons --list-secret-keys release@127.0.0.1 | awk -F: '$1 == "fpr" { print $10; exit }')
[ -n "$fpr" ] || fail "no fingerprint for the test key"
g --export "$fpr" >"$WORK/pubring.gpg"
g --export other@127.0.0.1 >"$WORK/other.gpg"

mkdir -p "$WORK/tree/usr/bin"
printf '#!/bin/sh\necho hello\n' >"$WORK/tree/usr/bin/hello"
chmod 755 "$WORK/tree/usr/bin/hello"
profile=$SOURCE_DIR/profiles/my-files.json
release=$WORK/signed/any/my-files-1.0-x86-64

step "a key gpg does not have: refused before the build (exit 2), nothing written"
expect_fail "--gpg-key \"nobody@127.0.0.1\" (--gpg-homedir $gnupg): no secret key that can sign" \
    build "$profile" --set root="$WORK/tree" --set version=1.0 -o "$WORK/none" \
    --release-dir "$WORK/none-rel" --gpg-key nobody@127.0.0.1 --gpg-homedir "$gnupg"
[ ! -e "$WORK/none" ] && [ ! -e "$WORK/none-rel" ] || fail "a refused key left files: $(find "$WORK/none" "$WORK/none-rel" 2>/dev/null)"
rc=0
build "$profile" --set root="$WORK/tree" --set version=1.0 -o "$WORK/none" --release-dir "$WORK/none-rel" \
    --gpg-key nobody@127.0.0.1 --gpg-homedir "$gnupg" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "an unknown key: exit $rc, not 2"

step "build --release-dir --gpg-key: SHA256SUMS.gpg"
build "$profile" --set root="$WORK/tree" --set version=1.0 -o "$WORK/out" --release-dir "$WORK/signed" \
    --base-url http://127.0.0.1:1/x --gpg-key "$fpr" --gpg-homedir "$gnupg" >/dev/null 2>"$WORK/signed.err"
! grep -q "no --gpg-key" "$WORK/signed.err" || fail "a signed release warns about no --gpg-key"
[ -f "$release/SHA256SUMS.gpg" ] || fail "no SHA256SUMS.gpg: $(ls "$release")"
(cd "$release" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c"
! grep -q "SHA256SUMS.gpg" "$release/SHA256SUMS" || fail "SHA256SUMS lists its own signature"

step "gpgv accepts it with the public key, refuses another key's keyring"
gpgv --keyring "$WORK/pubring.gpg" "$release/SHA256SUMS.gpg" "$release/SHA256SUMS" 2>"$WORK/gpgv.txt" ||
    fail "gpgv: $(cat "$WORK/gpgv.txt")"
! gpgv --keyring "$WORK/other.gpg" "$release/SHA256SUMS.gpg" "$release/SHA256SUMS" 2>/dev/null ||
    fail "gpgv accepted the signature with another key"

step "gpg as systemd-pull runs it (one keyring file, a fresh home, SHA256SUMS on stdin)"
pull_verify() { # pull_verify KEYRING SIG SUMS
    local home
    home=$(mktemp -d "$WORK/pullhome.XXXXXX")
    gpg --no-options --no-default-keyring --no-auto-key-locate --no-auto-check-trustdb --batch \
        --trust-model=always --homedir="$home" --keyring="$1" --verify "$2" - <"$3" 2>"$WORK/pull.txt"
}
pull_verify "$WORK/pubring.gpg" "$release/SHA256SUMS.gpg" "$release/SHA256SUMS" || fail "gpg --verify: $(cat "$WORK/pull.txt")"
cp "$release/SHA256SUMS" "$WORK/tampered"
sed -i '1s/^./0/;1s/^00/01/' "$WORK/tampered"
cmp -s "$WORK/tampered" "$release/SHA256SUMS" && fail "the tampered copy is not tampered"
! pull_verify "$WORK/pubring.gpg" "$release/SHA256SUMS.gpg" "$WORK/tampered" || fail "a tampered SHA256SUMS verified"
! pull_verify "$WORK/other.gpg" "$release/SHA256SUMS.gpg" "$release/SHA256SUMS" || fail "another key's keyring verified"

step "the signature is one signature packet by the key, nothing else"
g --list-packets "$release/SHA256SUMS.gpg" >"$WORK/packets" 2>/dev/null || fail "gpg --list-packets failed"
[ "$(grep -c '^:' "$WORK/packets")" -eq 1 ] && grep -q '^:signature packet:' "$WORK/packets" ||
    fail "SHA256SUMS.gpg holds more than a signature: $(cat "$WORK/packets")"
g --export-secret-keys "$fpr" >"$WORK/secret.gpg"
python3 - "$WORK/secret.gpg" "$release" "$WORK/out" <<'PY' || fail "secret key material in an output"
import os, sys
secret = open(sys.argv[1], "rb").read()
# The secret key packet's key material: any 32-byte window of it must appear in no output.
windows = {secret[i:i + 32] for i in range(0, len(secret) - 32, 16)}
for top in sys.argv[2:]:
    for d, _, files in os.walk(top):
        for f in files:
            data = open(os.path.join(d, f), "rb").read()
            for w in windows:
                assert w not in data, os.path.join(d, f)
PY

step "the transfers say Verify=yes and name the key"
python3 - "$release/my-files.conf" "$fpr" <<'PY' || fail "my-files.conf: $(cat "$release/my-files.conf")"
import configparser, sys
text = open(sys.argv[1]).read()
c = configparser.ConfigParser(interpolation=None, strict=True)
c.optionxform = str
c.read_string(text)
assert c["Transfer"]["Verify"] == "yes", dict(c["Transfer"])
assert sys.argv[2] in text and "/etc/systemd/import-pubring.gpg" in text, text
PY
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["deployment"]; assert d["sha256sums_signing_key"] == sys.argv[2] and d["sha256sums_signature"] == "SHA256SUMS.gpg", d' \
    "$release/manifest.json" "$fpr" || fail "manifest.json does not name the signature"

step "the same release again: accepted, the signature kept"
cp "$release/SHA256SUMS.gpg" "$WORK/sig-before"
sleep 1 # a new signature would carry another second
build "$profile" --set root="$WORK/tree" --set version=1.0 -o "$WORK/out" --release-dir "$WORK/signed" \
    --base-url http://127.0.0.1:1/x --gpg-key "$fpr" --gpg-homedir "$gnupg" >"$WORK/again.txt" 2>/dev/null
grep -q "already published, identical" "$WORK/again.txt" || fail "again: $(cat "$WORK/again.txt")"
cmp "$WORK/sig-before" "$release/SHA256SUMS.gpg" || fail "publishing again replaced the signature"

step "publish IMAGE --gpg-key signs too; without a key: Verify=no and a warning"
"$SYSEXT_BUILD" publish "$WORK/out/my-files.raw" --target any --version 1.0 --release-dir "$WORK/pub" \
    --gpg-key release@127.0.0.1 --gpg-homedir "$gnupg" >/dev/null 2>&1 || fail "publish --gpg-key failed"
gpgv --keyring "$WORK/pubring.gpg" "$WORK/pub/any/my-files-1.0-x86-64/SHA256SUMS.gpg" \
    "$WORK/pub/any/my-files-1.0-x86-64/SHA256SUMS" 2>/dev/null || fail "gpgv: publish's signature"
build "$profile" --set root="$WORK/tree" --set version=1.0 -o "$WORK/out2" --release-dir "$WORK/unsigned" \
    --base-url http://127.0.0.1:1/x >/dev/null 2>"$WORK/unsigned.err"
grep -q "no --gpg-key: SHA256SUMS is not signed" "$WORK/unsigned.err" || fail "no warning: $(cat "$WORK/unsigned.err")"
[ ! -e "$WORK/unsigned/any/my-files-1.0-x86-64/SHA256SUMS.gpg" ] || fail "an unsigned release has SHA256SUMS.gpg"
grep -qx "Verify=no" "$WORK/unsigned/any/my-files-1.0-x86-64/my-files.conf" || fail "unsigned: not Verify=no"
echo "ok"

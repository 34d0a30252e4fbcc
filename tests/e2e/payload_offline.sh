#!/usr/bin/env bash
# The offline signing flow of a release pipeline (core_sign_update's steps): create
# an unsigned payload with room for two 256-byte signatures and the hash to sign;
# sign that hash outside the tool with `openssl pkeyutl`; attach; verify. The hash
# written before signing must equal the signed range's hash of the final payload,
# computed independently, and the result must equal a payload signed directly.
source "$(dirname "$0")/lib/common.sh"
require_tool openssl /usr/bin/python3 cmp od
READER="/usr/bin/python3 $SOURCE_DIR/tests/tools/payload_reader.py"
cd "$WORK"

for k in k1 k2; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $k.pem 2>/dev/null
    openssl pkey -in $k.pem -pubout -out $k.pub
done
{ head -c 1500000 /dev/urandom; head -c 2000000 /dev/zero; } >img
truncate -s $(( ($(stat -c %s img) + 4095) / 4096 * 4096 )) img

step "1-2. unsigned payload with two reserved 256-byte signatures, and the hash file"
"$SYSEXT_BUILD" payload create img -o unsigned.gz --signature-size 256 --signature-size 256 \
    --hash-file update.hash
[ "$(stat -c %s update.hash)" -eq 32 ] || fail "the hash file must hold the 32 raw bytes"
want=$(od -An -tx1 -v update.hash | tr -d " \n")
[ "$("$SYSEXT_BUILD" payload hash unsigned.gz)" = "$want" ] || fail "payload hash disagrees"
"$SYSEXT_BUILD" --json payload inspect unsigned.gz | grep -q '"state": "unsigned"' \
    || fail "inspect should call the payload unsigned"
expect_fail "signatures check failed: the payload is unsigned" \
    "$SYSEXT_BUILD" payload verify unsigned.gz --public-key k1.pub

step "3. sign the hash elsewhere: openssl pkeyutl, PKCS#1 v1.5 with the SHA-256 DigestInfo"
openssl pkeyutl -sign -inkey k1.pem -pkeyopt digest:sha256 -in update.hash -out sig1
openssl pkeyutl -sign -inkey k2.pem -pkeyopt digest:sha256 -in update.hash -out sig2

step "4. attach; the hash is unchanged"
"$SYSEXT_BUILD" payload attach unsigned.gz --signature sig1 --signature sig2 -o signed.gz
got=$($READER signed-hash signed.gz)
[ "$got" = "$want" ] || fail "signed range hash changed: before $want, after $got"
cmp -n "$(stat -c %s unsigned.gz)" unsigned.gz signed.gz || fail "attach changed the signed range"

step "5. verify: our verifier and the independent reader"
"$SYSEXT_BUILD" payload verify signed.gz --public-key k1.pub --public-key k2.pub --extract out.raw
cmp img out.raw || fail "extracted image differs"
$READER verify signed.gz --pubkey k1.pub --pubkey k2.pub --out py.raw >/dev/null
cmp img py.raw || fail "the reader's image differs"

step "the offline payload equals one signed directly with the same keys"
"$SYSEXT_BUILD" payload create img -o direct.gz --key k1.pem --key k2.pem
cmp direct.gz signed.gz || fail "offline and direct signing differ"

step "an old-style signature made over the padded hash with rsautl -raw attaches too"
{ printf '\x00\x01'; head -c 202 /dev/zero | tr '\0' '\377'; printf '\x00';
  printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20'
  cat update.hash; } >update.padhash
openssl rsautl -raw -sign -inkey k1.pem -in update.padhash -out sig1raw 2>/dev/null \
    || openssl pkeyutl -sign -inkey k1.pem -pkeyopt rsa_padding_mode:none -in update.padhash -out sig1raw
cmp sig1 sig1raw || fail "raw-padded signature differs from pkeyutl's"

step "attach refuses what cannot be right"
expect_fail "unsigned.gz: this payload has room for 2 signatures; you gave 1" \
    "$SYSEXT_BUILD" payload attach unsigned.gz --signature sig1 -o x.gz
head -c 255 sig1 >short
expect_fail "unsigned.gz: this payload has room for 2 signatures of 256 bytes; signature 1 of 2 has 255 bytes" \
    "$SYSEXT_BUILD" payload attach unsigned.gz --signature short --signature sig2 -o x.gz
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k3.pem 2>/dev/null
openssl pkeyutl -sign -inkey k3.pem -pkeyopt digest:sha256 -in update.hash -out sig3
openssl pkey -in k3.pem -pubout -out k3.pub
expect_fail "signature check failed: none of the 2 signatures verifies with the RSA-2048 public key from k1.pub" \
    "$SYSEXT_BUILD" payload attach unsigned.gz --signature sig3 --signature sig2 -o x.gz \
    --public-key k1.pub --public-key k2.pub
[ ! -e x.gz ] || fail "a refused attach wrote its output"

step "re-signing a signed payload replaces its signatures, hash unchanged"
"$SYSEXT_BUILD" payload attach signed.gz --signature sig3 --signature sig2 -o resigned.gz
"$SYSEXT_BUILD" payload verify resigned.gz --public-key k3.pub --public-key k2.pub >/dev/null
[ "$($READER signed-hash resigned.gz)" = "$want" ] || fail "re-signing changed the hash"
expect_fail "signature check failed" \
    "$SYSEXT_BUILD" payload verify resigned.gz --public-key k1.pub
echo "payload_offline: OK"

#!/usr/bin/env bash
# Payloads made by `payload create` are read back by an independent reader
# (tests/tools/payload_reader.py: python3-protobuf, hashlib, bz2, openssl), which
# checks the signatures with `openssl dgst` and rebuilds the image byte for byte;
# with one key and with two. Also: same bytes whatever the thread count, keys by
# file: URI and with passphrases, and the refusals a user meets first.
source "$(dirname "$0")/lib/common.sh"
require_tool openssl mksquashfs /usr/bin/python3 cmp
READER="/usr/bin/python3 $SOURCE_DIR/tests/tools/payload_reader.py"
cd "$WORK"

step "keys made by openssl"
for k in k1 k2; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $k.pem 2>/dev/null
    openssl pkey -in $k.pem -pubout -out $k.pub
done

step "test images: a squashfs image, and random plus text data of 5.5 MiB (a partial last chunk)"
mkdir tree && cp -r "$SOURCE_DIR/src" "$SOURCE_DIR/payload" /usr/share/common-licenses tree/
mksquashfs tree squash.img -noappend -quiet -all-root -noI -noD -noF -noX >/dev/null
[ $(( $(stat -c %s squash.img) % 4096 )) -eq 0 ] || fail "mksquashfs did not pad to 4096"
/usr/bin/python3 - <<'PY'
import random
random.seed(7)
text = open("/usr/share/common-licenses/GPL-3", "rb").read() * 40
MiB = 1024 * 1024
# Chunks 0, 2, 4 compress (text), 1, 3 do not (random), 5 is half a chunk of text.
out = b"".join(text[:MiB] if i % 2 == 0 else random.randbytes(MiB) for i in range(5))
open("mix.img", "wb").write(out + text[:MiB // 2])
PY

for img in squash.img mix.img; do
    step "$img: one key, the reader rebuilds it byte-identically"
    "$SYSEXT_BUILD" payload create $img -o one.gz --key k1.pem
    $READER verify one.gz --pubkey k1.pub --out one.raw >one.json
    cmp $img one.raw || fail "$img: image rebuilt from the one-key payload differs"
    grep -q '"versions": \[2\]' one.json || fail "one signature must be version 2: $(cat one.json)"

    step "$img: two keys, both signatures verify with openssl, image identical"
    "$SYSEXT_BUILD" payload create $img -o flatcar-test.gz --key k1.pem --key k2.pem
    $READER verify flatcar-test.gz --pubkey k1.pub --pubkey k2.pub --out two.raw >two.json
    cmp $img two.raw || fail "$img: image rebuilt from the two-key payload differs"
    grep -q '"versions": \[1, 2\]' two.json || fail "versions must be 1, 2: $(cat two.json)"
    "$SYSEXT_BUILD" payload verify flatcar-test.gz --public-key k1.pub --public-key k2.pub \
        --extract ours.raw --sha256 "$(sha256sum flatcar-test.gz | cut -d' ' -f1)" >/dev/null
    cmp $img ours.raw || fail "$img: our own --extract differs"
done

step "the reader's view matches the layout rules: 1 MiB chunks, partial last chunk"
$READER verify flatcar-test.gz --pubkey k1.pub >view.json
"$SYSEXT_BUILD" --json payload inspect flatcar-test.gz >inspect.json
/usr/bin/python3 - <<'PY'
import json
d = json.load(open("inspect.json"))
ops = d["operations"]["list"]
assert len(ops) == 6, len(ops)
for i, op in enumerate(ops):
    ext = op["dst_extents"]
    assert len(ext) == 1 and ext[0]["start_block"] == i * 256, op
    assert ext[0]["num_blocks"] == (256 if i < 5 else 128), op
kinds = {op["type"] for op in ops}
assert kinds == {"REPLACE", "REPLACE_BZ"}, kinds  # random chunks raw, text chunks bzip2
assert d["new_partition_info"]["size"] == 5 * 1024 * 1024 + 512 * 1024
assert d["signatures"]["state"] == "signed"
assert [s["version"] for s in d["signatures"]["list"]] == [1, 2]
assert d["noop_operations"][0]["dst_extents"][0]["start_block"] == 2**64 - 1
PY

step "same bytes whatever the number of threads"
for j in 1 2 3 5; do
    "$SYSEXT_BUILD" payload create mix.img -o jobs$j.gz --key k1.pem --key k2.pem --jobs $j
done
for j in 2 3 5; do cmp jobs1.gz jobs$j.gz || fail "--jobs $j output differs from --jobs 1"; done
cmp jobs1.gz flatcar-test.gz || fail "a second run gave different bytes"

step "a file: URI takes the OSSL_STORE path and signs identically (PKCS#1 v1.5 is deterministic)"
"$SYSEXT_BUILD" payload create mix.img -o uri.gz --key "file:$WORK/k1.pem" --key k2.pem
cmp uri.gz flatcar-test.gz || fail "the file: URI key signed differently"

step "an encrypted key with the passphrase on a file descriptor or in the environment"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-256-cbc -pass pass:hunter2 \
    -out enc.pem 2>/dev/null
openssl pkey -in enc.pem -passin pass:hunter2 -pubout -out enc.pub
"$SYSEXT_BUILD" payload create mix.img -o enc.gz --key enc.pem --passphrase-fd 3 3<<<"hunter2"
PAYLOAD_PASS=hunter2 "$SYSEXT_BUILD" payload create mix.img -o enc2.gz --key enc.pem \
    --passphrase-env PAYLOAD_PASS
cmp enc.gz enc2.gz || fail "fd and environment passphrases gave different payloads"
$READER verify enc.gz --pubkey enc.pub >/dev/null
expect_fail "enc.pem: the key is encrypted and no passphrase was given" \
    "$SYSEXT_BUILD" payload create mix.img -o x.gz --key enc.pem

step "refusals"
head -c 10000 mix.img >odd.img
expect_fail "odd.img: image size 10000 is not a multiple of 4096 bytes" \
    "$SYSEXT_BUILD" payload create odd.img -o x.gz --key k1.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem 2>/dev/null
expect_fail "payloads need an RSA key" "$SYSEXT_BUILD" payload create mix.img -o x.gz --key ec.pem
cp k1.pem open.pem && chmod 644 open.pem
expect_fail "open.pem: private key file is readable by group or others (mode 0644)" \
    "$SYSEXT_BUILD" payload create mix.img -o x.gz --key open.pem
"$SYSEXT_BUILD" payload create mix.img -o open.gz --key open.pem --force-insecure-key
expect_fail "pkcs11:token=none: cannot open the key" \
    "$SYSEXT_BUILD" payload create mix.img -o x.gz --key "pkcs11:token=none?pin-value=secret"
[ ! -e x.gz ] || fail "a failed create left its output behind"
ls -a | grep -q '\.tmp-' && fail "a failed create left a temporary file"
echo "payload_roundtrip: OK"

#!/usr/bin/env bash
# Payloads laid out as Flatcar's own generator lays them out are accepted: update_engine's
# full_update_generator.cc declares every operation's extent a whole 1 MiB chunk (256
# blocks), the image's last, partial chunk too, and the clients write only the data
# (update_engine's extent writer refuses data longer than the extent, ue-rs ignores
# num_blocks and hashes every byte it wrote). The payloads here are written by the
# independent reader's flatcar-generate (python3-protobuf, bz2, hashlib, signed with
# `openssl pkeyutl`), not by our writer. `payload verify`, `--extract` and `inspect`
# accept them and rebuild the image byte for byte; an extent past the end of the
# image's last chunk is still refused, by us and by the reader.
source "$(dirname "$0")/lib/common.sh"
require_tool openssl mksquashfs /usr/bin/python3 cmp
READER="/usr/bin/python3 $SOURCE_DIR/tests/tools/payload_reader.py"
cd "$WORK"

for k in development production; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $k.pem 2>/dev/null
    openssl pkey -in $k.pem -pubout -out $k.pub
done

step "images: 6,664,192 bytes (the size of the issue's report), a squashfs, 8 KiB, exactly 2 MiB"
/usr/bin/python3 - <<'PY'
import random
random.seed(15)
text = open("/usr/share/common-licenses/GPL-3", "rb").read() * 300
MiB = 1024 * 1024
# Random and text mebibytes: REPLACE and REPLACE_BZ operations; 6.36 MiB in all.
data = b"".join(random.randbytes(MiB) if i % 2 else text[:MiB] for i in range(6))
open("issue.img", "wb").write(data + text[:6664192 - len(data)])
open("small.img", "wb").write(random.randbytes(8192))
open("whole.img", "wb").write(text[:MiB] + random.randbytes(MiB))
PY
mkdir tree && cp -r "$SOURCE_DIR/src" "$SOURCE_DIR/payload" /usr/share/common-licenses tree/
# The tree is this checkout's sources, so its size moves with them: a squashfs that
# happens to end on a MiB boundary gets one more file (the last chunk must be short).
for extra in 0 1 2 3; do
    [ "$extra" = 0 ] || printf '%*s' $((extra * 5000)) '' >tree/padding
    mksquashfs tree squash.img -noappend -quiet -all-root -noI -noD -noF -noX >/dev/null
    [ $(( $(stat -c %s squash.img) % 1048576 )) -eq 0 ] || break
done
[ $(( $(stat -c %s squash.img) % 1048576 )) -ne 0 ] || fail "squash.img is a whole number of MiB"

for img in issue.img squash.img small.img whole.img; do
    size=$(stat -c %s $img)
    blocks=$(( size / 4096 ))
    ops=$(( (size + 1048576 - 1) / 1048576 ))
    last=$(( (ops - 1) * 256 ))
    step "$img ($size bytes): Flatcar's layout, every extent 256 blocks"
    $READER flatcar-generate $img flatcar.gz --key development.pem --key production.pem >gen.json
    grep -q "\"last_extent\": \[$last, 256\]" gen.json || fail "$img: not the generator's layout: $(cat gen.json)"
    "$SYSEXT_BUILD" --json payload inspect flatcar.gz >inspect.json
    /usr/bin/python3 - "$size" <<'PY' || fail "$img: the manifest is not Flatcar's layout"
import json, sys
d = json.load(open("inspect.json"))
ops = d["operations"]["list"]
assert all(op["dst_extents"] == [{"start_block": i * 256, "num_blocks": 256}]
           for i, op in enumerate(ops)), ops
assert d["new_partition_info"]["size"] == int(sys.argv[1])
PY
    rm -f ours.raw
    "$SYSEXT_BUILD" payload verify flatcar.gz --public-key development.pub --public-key production.pub \
        --extract ours.raw --sha256 "$(sha256sum flatcar.gz | cut -d' ' -f1)" >verify.txt
    cmp $img ours.raw || fail "$img: --extract differs from the image"
    grep -q "signature version 2 verified by the RSA-2048 public key from production.pub" verify.txt ||
        fail "$img: the production key's signature is not version 2: $(cat verify.txt)"
    $READER verify flatcar.gz --pubkey production.pub --out reader.raw >/dev/null
    cmp $img reader.raw || fail "$img: the reader rebuilt another image"
    "$SYSEXT_BUILD" --json inspect flatcar.gz --public-key production.pub >inspect-ok.json ||
        fail "$img: inspect refuses the payload: $(cat inspect-ok.json)"
    grep -q '"status": "verified"' inspect-ok.json || fail "$img: inspect did not verify it"

    step "$img: an extent one block past the end of the last chunk is refused, and nothing extracted"
    $READER flatcar-generate $img long.gz --key production.pem --last-extent-blocks 257 >/dev/null
    rm -f long.raw
    want="long.gz: operation extents check failed: operation $((ops - 1)) writes 257 blocks at block $last, past the image's $size bytes and the end of its last 1 MiB chunk (block $((last + 256)))"
    expect_fail "$want" "$SYSEXT_BUILD" payload verify long.gz --public-key production.pub --extract long.raw
    rc=0
    "$SYSEXT_BUILD" payload verify long.gz --public-key production.pub >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 4 ] || fail "$img: a refused payload must exit 4, got $rc"
    [ ! -e long.raw ] || fail "$img: a refused payload was extracted"
    expect_fail "payload: $want" "$SYSEXT_BUILD" inspect long.gz --public-key production.pub
    if $READER verify long.gz --pubkey production.pub >/dev/null 2>&1; then
        fail "$img: the reader accepted an extent past the last chunk"
    fi
    if [ $(( size % 1048576 )) -ne 0 ]; then
        step "$img: the last extent may end anywhere from the image's end to its chunk's"
        $READER flatcar-generate $img short.gz --key production.pem \
            --last-extent-blocks $(( blocks - last )) >/dev/null
        "$SYSEXT_BUILD" payload verify short.gz --public-key production.pub --extract short.raw >/dev/null
        cmp $img short.raw || fail "$img: the exact last extent rebuilt another image"
    fi
done

step "the message of the issue's report is gone"
$READER flatcar-generate issue.img flatcar.gz --key production.pem >/dev/null
"$SYSEXT_BUILD" payload verify flatcar.gz --public-key production.pub 2>err.txt >/dev/null ||
    fail "refused: $(cat err.txt)"
echo "payload_flatcar_layout: OK"

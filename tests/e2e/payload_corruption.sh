#!/usr/bin/env bash
# Damaged payloads are rejected, each with a message naming the failed check:
# single changed bytes at many positions (every header byte, and seeded random
# positions in the manifest, the data and the signatures), truncation at many
# lengths, a wrong key, and manifests claiming more data than the file holds.
source "$(dirname "$0")/lib/common.sh"
require_tool openssl /usr/bin/python3 od dd
READER="/usr/bin/python3 $SOURCE_DIR/tests/tools/payload_reader.py"
cd "$WORK"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k1.pem 2>/dev/null
openssl pkey -in k1.pem -pubout -out k1.pub
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k2.pem 2>/dev/null
openssl pkey -in k2.pem -pubout -out k2.pub
{ head -c 1200000 /dev/urandom; head -c 1200000 < <(yes "sysext payload"); } >img
truncate -s $(( ($(stat -c %s img) + 4095) / 4096 * 4096 )) img
"$SYSEXT_BUILD" payload create img -o good.gz --key k1.pem --key k2.pem
"$SYSEXT_BUILD" payload verify good.gz --public-key k1.pub --public-key k2.pub >/dev/null

size=$(stat -c %s good.gz)
read -r manifest_end sig_start < <("$SYSEXT_BUILD" --json payload inspect good.gz | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(20 + d["manifest_size"], d["signatures"]["signed_range"]["size"])')

# verify_rejects LOG FILE: verify must fail with exit code 4 (a failed check) and
# name the check; the check's name is appended to LOG.
verify_rejects() {
    local log=$1 file=$2 err rc=0
    err=$("$SYSEXT_BUILD" payload verify "$file" --public-key k1.pub --public-key k2.pub \
        2>&1 >/dev/null) || rc=$?
    [ "$rc" -eq 4 ] || fail "$file: expected exit code 4 (verify), got $rc: $err"
    case "$err" in
    *": "*" check failed: "*) ;;
    *) fail "$file: the message names no check: $err" ;;
    esac
    sed -E 's/.*: ([a-z ]+) check failed: .*/\1/' <<<"$err" >>"$log"
}

step "single changed bytes: all 20 header bytes and 300 seeded random positions"
positions=$(/usr/bin/python3 -c "
import random
r = random.Random(20261128)
pos = list(range(20))
pos += [r.randrange(20, $manifest_end) for _ in range(100)]
pos += [r.randrange($manifest_end, $sig_start) for _ in range(100)]
pos += [r.randrange($sig_start, $size) for _ in range(100)]
print(' '.join(map(str, pos)))")
cp good.gz bad.gz
n=0
for pos in $positions; do
    orig=$(od -An -tu1 -j "$pos" -N1 bad.gz | tr -d ' ')
    flip=$(( (orig ^ (1 + (pos * 37) % 255)) & 255 ))
    printf "$(printf '\\%03o' "$flip")" | dd of=bad.gz bs=1 seek="$pos" conv=notrunc status=none
    verify_rejects byte-checks.log bad.gz
    printf "$(printf '\\%03o' "$orig")" | dd of=bad.gz bs=1 seek="$pos" conv=notrunc status=none
    n=$((n + 1))
done
cmp good.gz bad.gz || fail "restoring the bytes failed"
echo "$n single-byte changes rejected; failed checks:"
sort byte-checks.log | uniq -c

step "truncated payloads"
for len in 0 3 12 19 20 $((manifest_end - 1)) $manifest_end $((manifest_end + 5000)) \
    $((sig_start - 1)) $sig_start $((size - 1)); do
    head -c "$len" good.gz >trunc.gz
    verify_rejects trunc-checks.log trunc.gz
done
sort trunc-checks.log | uniq -c
grep -qx "header" trunc-checks.log || fail "a payload shorter than its header must fail the header check"
grep -qx "file size" trunc-checks.log || fail "a payload cut in its signatures must fail the file size check"

step "inspect without keys: every truncated payload is refused, as a host refuses it"
for len in 0 3 12 19 20 $((manifest_end - 1)) $manifest_end $((manifest_end + 5000)) \
    $((sig_start - 1)) $sig_start $((size - 1)); do
    head -c "$len" good.gz >trunc.gz
    rc=0
    "$SYSEXT_BUILD" inspect trunc.gz >inspect.out 2>&1 || rc=$?
    # 3: not a payload at all (too short for its magic); 4: a payload that fails a check.
    [ "$rc" = 3 ] || [ "$rc" = 4 ] || fail "inspect called a payload cut at $len bytes fine: $(cat inspect.out)"
done
head -c "$sig_start" good.gz >nosig.gz
expect_exit 4 "payload: unsigned: a host refuses it until signatures are attached" \
    "$SYSEXT_BUILD" inspect nosig.gz
"$SYSEXT_BUILD" inspect good.gz >/dev/null || fail "inspect refuses the intact payload without keys"

step "a wrong key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k3.pem 2>/dev/null
openssl pkey -in k3.pem -pubout -out k3.pub
expect_fail "good.gz: signature check failed: none of the 2 signatures verifies with the RSA-2048 public key from k3.pub" \
    "$SYSEXT_BUILD" payload verify good.gz --public-key k3.pub
expect_fail "signature check failed" "$SYSEXT_BUILD" payload verify good.gz \
    --public-key k1.pub --public-key k3.pub

step "manifests that claim more than the file holds (rewritten by the independent reader)"
$READER mutate good.gz long-op.gz --field last-op-length --add 1048576
expect_fail "long-op.gz: data offsets check failed: operation 2 data ends" \
    "$SYSEXT_BUILD" payload verify long-op.gz --public-key k1.pub
$READER mutate good.gz long-sig.gz --field signatures-size --add 4096
expect_fail "long-sig.gz: file size check failed: the manifest says the payload is" \
    "$SYSEXT_BUILD" payload verify long-sig.gz --public-key k1.pub
$READER mutate good.gz big-image.gz --field image-size --add 4096
expect_fail "big-image.gz: signature check failed" \
    "$SYSEXT_BUILD" payload verify big-image.gz --public-key k1.pub

step "the independent reader rejects the changed payloads too"
for f in long-op.gz long-sig.gz big-image.gz; do
    if $READER verify $f --pubkey k1.pub >/dev/null 2>&1; then fail "reader accepted $f"; fi
done
echo "payload_corruption: OK"

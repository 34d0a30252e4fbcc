#!/usr/bin/env bash
# How many signatures an unsigned payload has room for: two by default (the bytes
# of earlier releases, equal to `payload create --signature-size 256` twice),
# `--payload-signatures N` on `build` and `payload create`, 1 to 3 (the versions
# count up to 2). `payload attach` with another number of signatures says how many
# the payload has room for (exit 2), and a signature of another size which one it
# is (exit 3), before anything is written. Judged by the independent reader
# (openssl dgst for each signature, bz2 and hashlib for the image).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
source "$(dirname "$0")/lib/flatcar_sdk_root.sh"
require_tool openssl /usr/bin/python3 cmp
READER="/usr/bin/python3 $SOURCE_DIR/tests/tools/payload_reader.py"
cd "$WORK"

for k in k1 k2 k3; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $k.pem 2>/dev/null
    openssl pkey -in $k.pem -pubout -out $k.pub
done
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out big.pem 2>/dev/null
root=$WORK/sdk-root
make_flatcar_sdk_root "$root"
flatcar_build() {
    "$SYSEXT_BUILD" -q podman --target flatcar --set "root=$root" --set os_version=4593.2.5 \
        --set version=5.4.2 "$@"
}
# sign PAYLOAD KEY... : one signature file per key, sig.KEY, over PAYLOAD's hash
sign() {
    local payload=$1 k
    shift
    "$SYSEXT_BUILD" payload hash "$payload" -o "$payload.tosign" >/dev/null
    for k in "$@"; do
        openssl pkeyutl -sign -pkeyopt digest:sha256 -inkey $k.pem -in "$payload.tosign" -out sig.$k
    done
}
# exit_code CODE TEXT CMD...: CMD fails with exit code CODE and TEXT in its message
exit_code() {
    local want=$1 text=$2 rc=0
    shift 2
    expect_fail "$text" "$@"
    "$@" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq "$want" ] || fail "expected exit code $want, got $rc: $*"
}

step "the default: room for two RSA-2048 signatures, the same bytes as before"
flatcar_build -o out2
pay=out2/flatcar-podman.gz
"$SYSEXT_BUILD" -q payload create out2/flatcar-podman.raw -o sizes.gz \
    --signature-size 256 --signature-size 256 --hash-file sizes.hash
cmp sizes.gz $pay || fail "the build's default payload differs from two reserved 256-byte signatures"
cmp sizes.hash $pay.hash || fail "the hash files differ"
"$SYSEXT_BUILD" -q payload create out2/flatcar-podman.raw -o default.gz --hash-file default.hash
cmp default.gz $pay || fail "payload create's default differs from the build's"
"$SYSEXT_BUILD" -q payload create out2/flatcar-podman.raw -o two.gz --payload-signatures 2
cmp two.gz $pay || fail "--payload-signatures 2 differs from the default"
flatcar_build -o out2b --payload-signatures 2
cmp out2b/flatcar-podman.gz $pay || fail "build --payload-signatures 2 differs from the default"

step "attaching another number of signatures says how many fit (exit 2), and writes nothing"
sign $pay k1 k2 k3
exit_code 2 "$pay: this payload has room for 2 signatures; you gave 1" \
    "$SYSEXT_BUILD" payload attach $pay --signature sig.k1 -o x.gz
exit_code 2 "$pay: this payload has room for 2 signatures; you gave 3" \
    "$SYSEXT_BUILD" payload attach $pay --signature sig.k1 --signature sig.k2 --signature sig.k3 -o x.gz
exit_code 2 "$pay: this payload has room for 2 signatures; you gave 4" \
    "$SYSEXT_BUILD" payload attach $pay --signature sig.k1 --signature sig.k2 --signature sig.k3 \
    --signature sig.k1 -o x.gz
head -c 255 sig.k1 >short
exit_code 3 "$pay: this payload has room for 2 signatures of 256 bytes; signature 1 of 2 has 255 bytes" \
    "$SYSEXT_BUILD" payload attach $pay --signature short --signature sig.k2 -o x.gz
openssl pkeyutl -sign -pkeyopt digest:sha256 -inkey big.pem -in $pay.tosign -out sig.big
exit_code 3 "$pay: this payload has room for 2 signatures of 256 bytes; signature 2 of 2 has 512 bytes" \
    "$SYSEXT_BUILD" payload attach $pay --signature sig.k1 --signature sig.big -o x.gz
exit_code 3 "$pay: this payload has room for 2 signatures of 256 bytes; signature 1 of 2 has 512 bytes" \
    "$SYSEXT_BUILD" payload attach $pay --signature sig.big --signature sig.big -o x.gz
[ ! -e x.gz ] || fail "a refused attach wrote its output"
"$SYSEXT_BUILD" -q payload attach $pay --signature sig.k1 --signature sig.k2
$READER verify $pay --pubkey k1.pub --pubkey k2.pub | grep -q '"versions": \[1, 2\]' ||
    fail "two signatures must be versions 1, 2"

for n in 1 3; do
    step "build --payload-signatures $n: room for $n, attach refuses another count, takes $n"
    flatcar_build -o out$n --payload-signatures $n
    pay=out$n/flatcar-podman.gz
    keys=$( [ $n -eq 1 ] && echo k1 || echo k1 k2 k3 )
    sign $pay $keys k2
    cmp $pay.tosign $pay.hash || fail "payload hash differs from the build's hash file"
    exit_code 2 "$pay: this payload has room for $n signature$( [ $n -eq 1 ] || echo s); you gave 2" \
        "$SYSEXT_BUILD" payload attach $pay --signature sig.k1 --signature sig.k2
    args=()
    for k in $keys; do args+=(--signature sig.$k); done
    "$SYSEXT_BUILD" -q payload attach $pay "${args[@]}"
    pubs=()
    for k in $keys; do pubs+=(--pubkey $k.pub); done
    $READER verify $pay "${pubs[@]}" --out rebuilt.raw >view.json
    want=$( [ $n -eq 1 ] && echo '\[2\]' || echo '\[0, 1, 2\]' )
    grep -q "\"versions\": $want" view.json || fail "$n signatures, versions: $(cat view.json)"
    cmp out$n/flatcar-podman.raw rebuilt.raw || fail "the payload does not rebuild the image"
    "$SYSEXT_BUILD" -q payload create out$n/flatcar-podman.raw -o create$n.gz --payload-signatures $n
    "$SYSEXT_BUILD" -q payload attach create$n.gz "${args[@]}"
    cmp create$n.gz $pay || fail "payload create --payload-signatures $n differs from the build's"
done

step "--payload-signatures asks for a payload on any target"
mkdir -p src/usr/bin profiles
printf '#!/bin/sh\n' >src/usr/bin/tiny && chmod 0755 src/usr/bin/tiny
cat >profiles/tiny.json <<'EOF'
{
  "name": "tiny",
  "targets": { "any": { "release": { "ID": "_any" }, "sources": [{ "type": "directory", "path": "${src}" }] } }
}
EOF
build profiles/tiny.json --set src="$WORK/src" --set version=1 -o tiny >/dev/null
[ ! -e tiny/tiny.gz ] || fail "a payload without asking"
build profiles/tiny.json --set src="$WORK/src" --set version=1 -o tiny1 --payload-signatures 1 >/dev/null
[ -f tiny1/tiny.gz ] && [ -f tiny1/tiny.gz.hash ] || fail "--payload-signatures made no payload"
"$SYSEXT_BUILD" --json payload inspect tiny1/tiny.gz | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["signatures"]
assert d["state"] == "unsigned" and d["size"] == 264, d' || fail "not room for one RSA-2048 signature"

step "refusals: a count the versions cannot number, with keys, without a mode"
exit_code 2 "--payload-signatures: Value 4 not in range 1 to 3" flatcar_build -o bad --payload-signatures 4
exit_code 2 "--payload-signatures: Value 0 not in range 1 to 3" flatcar_build -o bad --payload-signatures 0
exit_code 2 "--payload-key excludes --payload-signatures" \
    flatcar_build -o bad --payload-signatures 1 --payload-key k1.pem
[ ! -e bad ] || fail "a refused build wrote its output directory"
exit_code 2 "--payload-signatures" \
    "$SYSEXT_BUILD" payload create out1/flatcar-podman.raw -o x.gz --payload-signatures 4
exit_code 2 "--key excludes --payload-signatures" \
    "$SYSEXT_BUILD" payload create out1/flatcar-podman.raw -o x.gz --payload-signatures 1 --key k1.pem
exit_code 2 "payload create needs --key to sign with; to sign elsewhere, --hash-file and/or --payload-signatures N" \
    "$SYSEXT_BUILD" payload create out1/flatcar-podman.raw -o x.gz
[ ! -e x.gz ] || fail "a refused create wrote its output"
echo "payload_signatures: OK"

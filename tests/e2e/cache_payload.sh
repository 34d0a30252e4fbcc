#!/usr/bin/env bash
# `payload create` with the block cache: the same payload bytes (cmp) with no
# cache, a cold one, a warm one and one whose entries were damaged, and the
# independent reader (tests/tools/payload_reader.py) rebuilds the image from
# the payload made with the damaged cache.
source "$(dirname "$0")/lib/common.sh"
require_tool openssl mksquashfs cmp /usr/bin/python3
READER="/usr/bin/python3 $SOURCE_DIR/tests/tools/payload_reader.py"
cd "$WORK"
field() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k1.pem 2>/dev/null
openssl pkey -in k1.pem -pubout -out k1.pub

step "an image of compressible and incompressible chunks"
mkdir tree && cp -r "$SOURCE_DIR/src" "$SOURCE_DIR/payload" /usr/share/common-licenses tree/
head -c 3000000 /dev/urandom >tree/noise
mksquashfs tree image.raw -noappend -quiet -all-root -noI -noD -noF -noX >/dev/null
create() { "$SYSEXT_BUILD" --json payload create image.raw -o "$1" --key k1.pem "${@:2}" >"$1.json"; }

step "no cache, cold, warm: the same payload"
create plain.gz --no-cache
create cold.gz --cache-dir cache
cmp plain.gz cold.gz || fail "a cold cache changed the payload"
ops=$(field cold.gz.json "d['operations']")
[ "$(field cold.gz.json "d['cache']['stored'] + d['cache']['hits']")" = "$ops" ] ||
    fail "the cold run did not store every chunk: $(cat cold.gz.json)"
[ "$(field cold.gz.json "d['compressed_operations']")" -gt 0 ] || fail "no chunk was bzip2-compressed"
[ "$(field cold.gz.json "d['compressed_operations']")" -lt "$ops" ] || fail "no chunk was stored raw"
create warm.gz --cache-dir cache
cmp plain.gz warm.gz || fail "a warm cache changed the payload"
[ "$(field warm.gz.json "d['cache']['hits']")" = "$ops" ] || fail "the warm run missed: $(cat warm.gz.json)"

step "damaged entries: flipped, truncated, another chunk's entry"
mapfile -t entries < <(find cache -type f -name '[0-9a-f]*' | sort)
for i in "${!entries[@]}"; do
    e=${entries[$i]}
    case $((i % 3)) in
    0) /usr/bin/python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[-1]^=1; open(p,"wb").write(b)' "$e" ;;
    1) truncate -s $(($(stat -c %s "$e") - 1)) "$e" ;;
    2) cp "${entries[$(((i + 1) % ${#entries[@]}))]}" "$e" ;;
    esac
done
create damaged.gz --cache-dir cache
cmp plain.gz damaged.gz || fail "a damaged cache changed the payload"
[ "$(field damaged.gz.json "d['cache']['hits']")" = 0 ] || fail "a damaged entry was used: $(cat damaged.gz.json)"
$READER verify damaged.gz --pubkey k1.pub --out rebuilt.raw >/dev/null
cmp image.raw rebuilt.raw || fail "the image rebuilt from the payload differs"

step "pack and payload share one cache without mixing entries"
mkdir -p usr-tree/usr && cp -r "$SOURCE_DIR/src" usr-tree/usr/
"$SYSEXT_BUILD" pack usr-tree -o tree.raw --os-id _any --compression zstd:3 --cache-dir cache >/dev/null
create shared.gz --cache-dir cache
cmp plain.gz shared.gz || fail "the payload changed once pack entries were in the cache"
echo "PASS"

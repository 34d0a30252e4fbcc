#!/usr/bin/env bash
# Builds sharing one cache at the same moment: two packs started together on an
# empty cache, twice, both give the image packed without a cache (cmp); a pack
# while another process keeps pruning the cache to nothing does too; and two
# payloads made together.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool cmp openssl
cd "$WORK"

make_tree tree --release e2e:_any
mkdir -p tree/usr/share/doc-copy && cp -r "$SOURCE_DIR/src" "$SOURCE_DIR/payload" tree/usr/share/doc-copy/
flags=(--name e2e --compression zstd:10 --block-size 32K --jobs 2)
# The image's file name must be the extension's name: one directory per image.
mkdir -p plain a b pruned
"$SYSEXT_BUILD" pack tree -o plain/e2e.raw "${flags[@]}" --no-cache >/dev/null

for round in 1 2; do
    step "round $round: two packs started together on an empty cache"
    rm -rf cache
    "$SYSEXT_BUILD" pack tree -o a/e2e.raw "${flags[@]}" --cache-dir cache >/dev/null 2>a.err &
    pid_a=$!
    "$SYSEXT_BUILD" pack tree -o b/e2e.raw "${flags[@]}" --cache-dir cache >/dev/null 2>b.err &
    pid_b=$!
    wait $pid_a || fail "pack a failed: $(cat a.err)"
    wait $pid_b || fail "pack b failed: $(cat b.err)"
    cmp plain/e2e.raw a/e2e.raw || fail "round $round: pack a differs from the image made without cache"
    cmp plain/e2e.raw b/e2e.raw || fail "round $round: pack b differs from the image made without cache"
    ! grep -q warning a.err b.err || fail "warnings: $(cat a.err b.err)"
    [ -z "$(find cache -name '.*tmp-*')" ] || fail "temporary files left in the cache"
done

step "packs while another process keeps pruning the cache to nothing"
touch pruning
(while [ -e pruning ]; do "$SYSEXT_BUILD" cache prune --cache-dir cache --cache-max-size 0 >/dev/null || exit 1; done) &
pruner=$!
for i in 1 2 3; do
    "$SYSEXT_BUILD" pack tree -o pruned/e2e.raw "${flags[@]}" --cache-dir cache >/dev/null
    cmp plain/e2e.raw pruned/e2e.raw || fail "pack $i during pruning differs"
done
rm pruning
wait $pruner || fail "cache prune failed while packs ran"

step "two payloads made together with one cache"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k.pem 2>/dev/null
"$SYSEXT_BUILD" payload create plain/e2e.raw -o plain.gz --key k.pem --no-cache
rm -rf cache
"$SYSEXT_BUILD" payload create plain/e2e.raw -o a.gz --key k.pem --cache-dir cache &
pid_a=$!
"$SYSEXT_BUILD" payload create plain/e2e.raw -o b.gz --key k.pem --cache-dir cache &
pid_b=$!
wait $pid_a || fail "payload a failed"
wait $pid_b || fail "payload b failed"
cmp plain.gz a.gz || fail "payload a differs"
cmp plain.gz b.gz || fail "payload b differs"
echo "PASS"

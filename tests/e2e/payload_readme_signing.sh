#!/usr/bin/env bash
# Runs the README's offline payload signing commands exactly as written (the
# code block after "Signing a payload offline"), on the payload a flatcar build
# leaves unsigned: payload hash, two `openssl pkeyutl` signatures, payload attach,
# payload verify. Then judges the result as Flatcar's clients would: the
# independent reader checks every signature with `openssl dgst`, and the
# signature of version 2, the only one update_engine checks, must be the
# production key's.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/flatcar_sdk_root.sh"
require_tool openssl /usr/bin/python3 cmp od
READER="/usr/bin/python3 $SOURCE_DIR/tests/tools/payload_reader.py"
cd "$WORK"

step "the README's commands"
/usr/bin/python3 - "$SOURCE_DIR/README.md" >commands.sh <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("**Signing a payload offline**"))
i = start
while not lines[i].startswith("    "):
    i += 1
while i < len(lines) and lines[i].startswith("    "):
    print(lines[i][4:])
    i += 1
PY
cat commands.sh
grep -n . commands.sh | grep -v ':#' | sed -E 's/^([0-9]+):(sysext-build payload [a-z]+|openssl pkeyutl|    ).*/\2/' |
    tr '\n' '|' >shape.txt
[ "$(cat shape.txt)" = "sysext-build payload hash|openssl pkeyutl|openssl pkeyutl|sysext-build payload attach|    |sysext-build payload verify|" ] ||
    fail "the README's block is not hash, two signatures, attach, verify: $(cat shape.txt)"
tail -n 3 commands.sh | grep -q -- '--public-key production.pub$' || fail "verify is not with the production key"
grep 'pkeyutl' commands.sh | tail -n 1 | grep -q 'production.pem' || fail "the production key does not sign last"

step "what the commands expect: the unsigned payload of a flatcar build, and the keys"
root=$WORK/sdk-root
make_flatcar_sdk_root "$root"
"$SYSEXT_BUILD" -q podman --target flatcar --set "root=$root" --set os_version=4593.2.5 \
    --set version=5.4.2 -o out
cp out/flatcar-podman.gz unsigned.gz
for k in development production; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $k.pem 2>/dev/null
    chmod 600 $k.pem
    openssl pkey -in $k.pem -pubout -out $k.pub
done

step "running them"
export SYSEXT_BUILD
{
    echo 'set -euo pipefail'
    echo 'sysext-build() { "$SYSEXT_BUILD" "$@"; }'
    cat commands.sh
} >run.sh
bash run.sh >run.out 2>&1 || { cat run.out >&2; fail "the README's commands failed"; }
cat run.out

step "the hash signed is the build's, and the signed range did not change"
cmp flatcar-podman.hash out/flatcar-podman.gz.hash || fail "payload hash differs from the build's hash file"
cmp -n "$(stat -c %s unsigned.gz)" unsigned.gz out/flatcar-podman.gz || fail "attach changed the signed range"
[ "$($READER signed-hash out/flatcar-podman.gz)" = "$(od -An -tx1 -v flatcar-podman.hash | tr -d ' \n')" ] ||
    fail "the reader's signed range hash is not the hash signed"

step "as Flatcar's clients see it: the production key's signature is version 2"
$READER verify out/flatcar-podman.gz --pubkey development.pub --pubkey production.pub --out rebuilt.raw >view.json
cat view.json
/usr/bin/python3 - <<'PY' || fail "the production key must sign version 2: $(cat view.json)"
import json
d = json.load(open("view.json"))
assert d["versions"] == [1, 2], d
assert {m["key"]: m["version"] for m in d["matched"]} == {"development.pub": 1, "production.pub": 2}, d
PY
cmp out/flatcar-podman.raw rebuilt.raw || fail "the payload does not rebuild the image"
grep -q "signature version 2 verified by the RSA-2048 public key from production.pub" run.out ||
    fail "payload verify did not report the production key's version 2 signature"
echo "payload_readme_signing: OK"

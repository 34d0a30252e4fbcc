#!/usr/bin/env bash
# `sysext-build index`, the served index (and the release workflow's last
# step): releases of two versions and two architectures in one directory with
# one SHA256SUMS that sha256sum -c accepts and that lists every image; per-build
# files are prefixed with the release name; SHA256SUMS.gpg verifies with gpgv.
# The same releases again add nothing and write nothing (the bytes and times of
# SHA256SUMS and its signature stay), but a stale signature (a run killed
# between its last two renames) is made again; against the SHA256SUMS published
# elsewhere (--published) its entries are kept. A name listed with other bytes,
# two releases with different files of one name, a release that fails its own
# SHA256SUMS, an unsigned addition to a signed index and a key gpg does not
# have are refused with the index left byte for byte as it was (no
# temporaries either).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool sha256sum gpg gpgv gpgconf python3 cmp

gnupg=$WORK/gnupg
mkdir -m 700 "$gnupg"
trap 'gpgconf --homedir "$gnupg" --kill gpg-agent 2>/dev/null || true; cleanup_work' EXIT
gpg --homedir "$gnupg" --batch --quiet --passphrase '' --quick-gen-key "index test <index@127.0.0.1>" ed25519 sign never 2>/dev/null
gpg --homedir "$gnupg" --batch --quiet --export index@127.0.0.1 >"$WORK/pubring.gpg"
sign=(--gpg-key index@127.0.0.1 --gpg-homedir "$gnupg")

mkdir -p "$WORK/tree/usr/bin"
mk() { # mk VERSION ARCH RELEASES-DIR
    printf '#!/bin/sh\necho hello %s\n' "$1" >"$WORK/tree/usr/bin/hello"
    chmod 755 "$WORK/tree/usr/bin/hello"
    "$SYSEXT_BUILD" -q build --download-cache "$BUILD_CACHE" "$SOURCE_DIR/profiles/my-files.json" \
        --set root="$WORK/tree" --set version="$1" --arch "$2" -o "$WORK/out-$1-$2" \
        --release-dir "$3" --base-url http://127.0.0.1:1/x 2>/dev/null
}
for arch in x86-64 arm64; do
    mk 1.0 "$arch" "$WORK/releases"
    mk 1.1 "$arch" "$WORK/releases2"
done
idx=$WORK/index
snapshot() { # the index's names, bytes and times, temporaries included
    (cd "$idx" && find . -printf '%P %s %T@\n' | LC_ALL=C sort && cat SHA256SUMS && sha256sum -- * .[!.]* 2>/dev/null || true)
}
same_as() { # same_as SNAPSHOT WHAT
    snapshot >"$WORK/now"
    cmp -s "$1" "$WORK/now" || fail "$2 changed the index: $(diff "$1" "$WORK/now" | head -20)"
}

step "index 1.0 of two architectures, signed"
"$SYSEXT_BUILD" --json index "$idx" "$WORK/releases" "${sign[@]}" >"$WORK/first.json" || fail "index failed"
(cd "$idx" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c in the index"
for f in my-files-1.0-x86-64.raw my-files-1.0-arm64.raw my-files.conf sysext-update-my-files.timer \
    my-files-1.0-arm64.manifest.json my-files-1.0-x86-64.my-files.flatcar.bu my-files-1.0-x86-64.lock.json; do
    grep -q "  $f\$" "$idx/SHA256SUMS" || fail "SHA256SUMS does not list $f: $(cat "$idx/SHA256SUMS")"
done
[ "$(wc -l <"$idx/SHA256SUMS")" -eq "$(ls "$idx" | grep -vxc 'SHA256SUMS\|SHA256SUMS.gpg')" ] || fail "SHA256SUMS and the files disagree"
gpgv --keyring "$WORK/pubring.gpg" "$idx/SHA256SUMS.gpg" "$idx/SHA256SUMS" 2>/dev/null || fail "gpgv refuses the index's signature"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["changed"] and j["signed"] and j["releases"] == 2 and "my-files-1.0-arm64.raw" in j["added"], j' \
    "$WORK/first.json" || fail "--json: $(cat "$WORK/first.json")"

step "the same releases again: nothing new, nothing written"
snapshot >"$WORK/before"
sleep 1
"$SYSEXT_BUILD" --json index "$idx" "$WORK/releases" "${sign[@]}" >"$WORK/again.json" || fail "index again failed"
same_as "$WORK/before" "indexing the same releases again"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert not j["changed"] and j["added"] == [] and j["signed"], j' \
    "$WORK/again.json" || fail "--json again: $(cat "$WORK/again.json")"

cp "$idx/SHA256SUMS.gpg" "$WORK/stale.gpg"
step "1.1 added: both versions in one SHA256SUMS, signed again"
"$SYSEXT_BUILD" -q index "$idx" "$WORK/releases2/any/my-files-1.1-x86-64" "$WORK/releases2/any/my-files-1.1-arm64" "${sign[@]}" ||
    fail "adding 1.1 failed"
for f in my-files-1.0-x86-64.raw my-files-1.1-x86-64.raw my-files-1.0-arm64.raw my-files-1.1-arm64.raw; do
    grep -q "  $f\$" "$idx/SHA256SUMS" || fail "SHA256SUMS does not list $f"
done
(cd "$idx" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c after 1.1"
gpgv --keyring "$WORK/pubring.gpg" "$idx/SHA256SUMS.gpg" "$idx/SHA256SUMS" 2>/dev/null || fail "gpgv after 1.1"

step "a signature left stale (a run killed between its last two renames): signed again"
cp "$WORK/stale.gpg" "$idx/SHA256SUMS.gpg"
! gpgv --keyring "$WORK/pubring.gpg" "$idx/SHA256SUMS.gpg" "$idx/SHA256SUMS" 2>/dev/null || fail "the stale signature verifies"
"$SYSEXT_BUILD" -q index "$idx" "$WORK/releases2" "${sign[@]}" || fail "index over a stale signature"
gpgv --keyring "$WORK/pubring.gpg" "$idx/SHA256SUMS.gpg" "$idx/SHA256SUMS" 2>/dev/null || fail "the stale signature was not replaced"

step "refused, the index left as it was: other bytes under a published name"
snapshot >"$WORK/before"
cp -a "$WORK/releases2/any/my-files-1.1-x86-64" "$WORK/clash"
rm -f "$WORK/clash/SHA256SUMS"
echo tampered >>"$WORK/clash/my-files-1.1-x86-64.raw"
(cd "$WORK/clash" && sha256sum -- * >SHA256SUMS)
expect_fail "my-files-1.1-x86-64.raw: already published with other bytes" \
    "$SYSEXT_BUILD" index "$idx" "$WORK/clash" "${sign[@]}"
same_as "$WORK/before" "a refused name"
rc=0
"$SYSEXT_BUILD" index "$idx" "$WORK/clash" "${sign[@]}" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "other bytes: exit $rc, not 3"

step "refused: a release that fails its own SHA256SUMS"
cp -a "$WORK/releases2/any/my-files-1.1-arm64" "$WORK/broken"
echo x >>"$WORK/broken/usage.txt"
expect_fail "usage.txt: does not match the release's SHA256SUMS" "$SYSEXT_BUILD" index "$idx" "$WORK/broken" "${sign[@]}"
same_as "$WORK/before" "a broken release"

step "refused: unsigned additions to a signed index, and a key gpg does not have"
mk 1.2 x86-64 "$WORK/releases3"
expect_fail "the index is signed (SHA256SUMS.gpg): give --gpg-key" "$SYSEXT_BUILD" index "$idx" "$WORK/releases3"
same_as "$WORK/before" "an unsigned addition"
expect_fail "no secret key that can sign" "$SYSEXT_BUILD" index "$idx" "$WORK/releases3" --gpg-key nobody@127.0.0.1 --gpg-homedir "$gnupg"
same_as "$WORK/before" "an unknown key"

step "an unsigned index against the published SHA256SUMS (the release workflow)"
"$SYSEXT_BUILD" -q index "$WORK/assets" "$WORK/releases" || fail "unsigned index"
[ ! -e "$WORK/assets/SHA256SUMS.gpg" ] || fail "an unsigned index has SHA256SUMS.gpg"
cp "$WORK/assets/SHA256SUMS" "$WORK/published"
"$SYSEXT_BUILD" -q index "$WORK/assets2" "$WORK/releases" --published "$WORK/published" || fail "against published"
cmp "$WORK/assets/SHA256SUMS" "$WORK/assets2/SHA256SUMS" || fail "the same releases against the published list changed SHA256SUMS"
"$SYSEXT_BUILD" -q index "$WORK/assets3" "$WORK/releases2" --published "$WORK/published" || fail "1.1 against published"
grep -q "  my-files-1.0-x86-64.raw\$" "$WORK/assets3/SHA256SUMS" && grep -q "  my-files-1.1-x86-64.raw\$" "$WORK/assets3/SHA256SUMS" ||
    fail "the published entries were not kept: $(cat "$WORK/assets3/SHA256SUMS")"
[ ! -e "$WORK/assets3/my-files-1.0-x86-64.raw" ] || fail "a published file was copied again"
sed -i "s|^[0-9a-f]*  my-files-1.0-arm64.raw\$|$(printf '%064d' 0)  my-files-1.0-arm64.raw|" "$WORK/published"
expect_fail "my-files-1.0-arm64.raw: already published with other bytes" \
    "$SYSEXT_BUILD" index "$WORK/assets4" "$WORK/releases" --published "$WORK/published"
[ ! -e "$WORK/assets4/SHA256SUMS" ] || fail "a refused run wrote SHA256SUMS"
echo "ok"

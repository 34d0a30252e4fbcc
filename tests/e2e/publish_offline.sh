#!/usr/bin/env bash
# Signing away from the build: build unsigned, `sysext-build sign` the image
# (sidecars, or a disk image), then `sysext-build publish IMAGE`. The release
# is byte-for-byte the one `build --key --release-dir` writes in one go
# (compared file by file, and by sha256sum -c). An image that fails its
# signature check is not published (exit 4), nor one signed by another key
# when --cert names the trusted one.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool sha256sum openssl diff

mkdir -p "$WORK/tree/usr/bin"
printf '#!/bin/sh\necho hello\n' >"$WORK/tree/usr/bin/hello"
chmod 755 "$WORK/tree/usr/bin/hello"
"$SYSEXT_BUILD" -q keygen -o "$WORK/keys"
"$SYSEXT_BUILD" -q keygen -o "$WORK/other"
key=(--key "$WORK/keys/development.key" --cert "$WORK/keys/development.crt")
profile=$SOURCE_DIR/profiles/my-files.json
common=(--download-cache "$BUILD_CACHE" "$profile" --set "root=$WORK/tree" --set version=3.0)
pub=(--target any --version 3.0 --profile "$profile" --base-url http://127.0.0.1:1/x)

same_release() { # DIR-A DIR-B
    diff -r "$1" "$2" >/dev/null || fail "the releases differ: $(diff -r "$1" "$2" | head -c 2000)"
    (cd "$2" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "$2: sha256sum -c"
}

for mode in sidecars ddi; do
    step "$mode: build and sign in one go"
    extra=()
    [ "$mode" = sidecars ] || extra=(--ddi)
    "$SYSEXT_BUILD" -q build "${common[@]}" -o "$WORK/$mode-direct" "${key[@]}" "${extra[@]}" \
        --release-dir "$WORK/$mode-rel-direct" --base-url http://127.0.0.1:1/x

    step "$mode: build unsigned, sign elsewhere, publish"
    "$SYSEXT_BUILD" -q build "${common[@]}" -o "$WORK/$mode-unsigned"
    mkdir -p "$WORK/$mode-signed"
    if [ "$mode" = sidecars ]; then
        cp "$WORK/$mode-unsigned/my-files.raw" "$WORK/$mode-signed/"
        "$SYSEXT_BUILD" -q sign "$WORK/$mode-signed/my-files.raw" "${key[@]}"
    else
        "$SYSEXT_BUILD" -q sign "$WORK/$mode-unsigned/my-files.raw" "${key[@]}" --ddi -o "$WORK/$mode-signed/my-files.raw"
    fi
    "$SYSEXT_BUILD" -q publish "$WORK/$mode-signed/my-files.raw" "${pub[@]}" --cert "$WORK/keys/development.crt" \
        --lock "$WORK/$mode-unsigned/my-files.lock.json" --release-dir "$WORK/$mode-rel-offline"
    same_release "$WORK/$mode-rel-direct/any/my-files-3.0-x86-64" "$WORK/$mode-rel-offline/any/my-files-3.0-x86-64"
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["signature"]; assert s["format"] == sys.argv[2], s' \
        "$WORK/$mode-rel-offline/any/my-files-3.0-x86-64/manifest.json" "$mode" || fail "$mode: manifest signature"
done

step "a signature by another key is refused when --cert names the trusted one"
expect_fail "my-files.raw" "$SYSEXT_BUILD" publish "$WORK/sidecars-signed/my-files.raw" "${pub[@]}" \
    --cert "$WORK/other/development.crt" --release-dir "$WORK/rel-other"
[ ! -e "$WORK/rel-other/any/my-files-3.0-x86-64" ] || fail "published with an untrusted signature"

step "a damaged signature is refused (exit 4)"
mkdir -p "$WORK/bad"
cp "$WORK/sidecars-signed/"my-files.* "$WORK/bad/"
printf '%064d\n' 0 >"$WORK/bad/my-files.roothash"
rc=0
"$SYSEXT_BUILD" publish "$WORK/bad/my-files.raw" "${pub[@]}" --release-dir "$WORK/rel-bad" 2>"$WORK/bad.err" || rc=$?
[ "$rc" -eq 4 ] || fail "a damaged signature: exit $rc, want 4: $(cat "$WORK/bad.err")"
[ ! -e "$WORK/rel-bad/any/my-files-3.0-x86-64" ] || fail "published a damaged signature"

step "the version must come from somewhere"
expect_fail "has no SYSEXT_VERSION_ID; give --version" "$SYSEXT_BUILD" publish "$WORK/sidecars-unsigned/my-files.raw" \
    --target any --release-dir "$WORK/rel-nover"
echo "ok"

# shellcheck shell=bash
# Helpers for the `sysext-build build PROFILE` tests. Source after common.sh.
# Profiles, trees and packages are written by each test under $WORK; nothing
# here reaches beyond 127.0.0.1.
#
#   build ARGS...             sysext-build build ARGS, with the test's download cache
#   listing IMAGE             "mode owner path" per entry, as unsquashfs -lln shows it
#   image_file IMAGE PATH     a file's bytes, read by unsquashfs -cat
#   bad_build CODES IMAGE "TEXT" ARGS...
#                             the build must fail (exit code one of CODES) with every
#                             line of TEXT in its `sysext-build: error:` lines, twice:
#                             into an empty output directory and over an older
#                             IMAGE.raw and IMAGE.lock.json.
#                             Either way no image appears under the final name, an
#                             older image stays as it was, no work directory is left,
#                             and nothing outside the output directory changes (a
#                             canary's time against `find -newer` over $WORK, the
#                             the download cache excepted; scratch files in the
#                             build's TMPDIR may come and go but not stay).

BUILD_CACHE=$WORK/download-cache
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

build() {
    "$SYSEXT_BUILD" build --download-cache "$BUILD_CACHE" "$@"
}

listing() {
    # unsquashfs -lln: "-rwxr-xr-x 0/0   12 2023-11-14 22:13 squashfs-root/usr/bin/x"
    unsquashfs -lln "$1" | sed -n 's|^\([^ ]*\) \([^ ]*\) .* squashfs-root/\(.*\)$|\1 \2 \3|p'
}

image_file() {
    unsquashfs -cat "$1" "$2"
}

# The listing line of one PATH (with " -> TARGET" for a link), or nothing.
entry() {
    listing "$1" | awk -v p="$2" '{ q = $0; sub(/^[^ ]* [^ ]* /, "", q); sub(/ -> .*$/, "", q) } q == p'
}

bad_build() {
    local codes=$1 name=$2 texts=$3
    shift 3
    local out=$WORK/bad-out canary=$WORK/canary attempt err rc errors text changed image
    for attempt in fresh existing; do
        rm -rf "$out"
        mkdir -p "$out"
        [ "$attempt" = fresh ] || {
            echo "precious older image" >"$out/$name.raw"
            cp "$out/$name.raw" "$out/$name.lock.json"
        }
        mkdir -p "$BUILD_CACHE"
        touch "$canary"
        sleep 0.01
        rc=0
        err=$("$SYSEXT_BUILD" build --download-cache "$BUILD_CACHE" "$@" -o "$out" 2>&1 >/dev/null) || rc=$?
        case " $codes " in
        *" $rc "*) ;;
        *) fail "build $*: exit code $rc, want one of $codes; stderr: $(head -c 3000 <<<"$err")" ;;
        esac
        errors=$(grep '^sysext-build: error: ' <<<"$err" || true)
        [ -n "$errors" ] || fail "build $*: no 'sysext-build: error: ' line: $(head -c 3000 <<<"$err")"
        while IFS= read -r text; do
            [ -n "$text" ] || continue
            case $err in
            *"$text"*) ;;
            *) fail "build $*: the error does not say '$text': $(head -c 3000 <<<"$err")" ;;
            esac
        done <<<"$texts"
        # No image under any name but the older one, no work directory left.
        local left
        left=$(cd "$out" && ls -A | grep -vxF -e "$name.raw" -e "$name.lock.json" || true)
        [ "$attempt" = existing ] || left=$(ls -A "$out")
        [ -z "$left" ] || fail "build $*: left in the output directory: $left"
        if [ "$attempt" = existing ]; then
            for image in "$name.raw" "$name.lock.json"; do
                [ "$(cat "$out/$image")" = "precious older image" ] || fail "build $*: $image was changed"
            done
        fi
        changed=$(find "$WORK" -newer "$canary" ! -path "$out" ! -path "$out/*" \
            ! -path "$BUILD_CACHE" ! -path "$BUILD_CACHE/*" ! -path "$WORK/mirror-http*" ! -path "$WORK" \
            ! -path "$TMPDIR" 2>/dev/null || true)
        [ -z "$changed" ] || fail "build $*: wrote outside its output directory: $changed"
        # Scratch files in TMPDIR (gpgv's) may come and go, but none may stay.
        [ -z "$(ls -A "$TMPDIR")" ] || fail "build $*: left in TMPDIR: $(ls -A "$TMPDIR")"
        # $WORK itself changes when anything appears or goes directly in it.
        [ ! "$WORK" -nt "$canary" ] || fail "build $*: created or removed something in $WORK: $(ls -A "$WORK")"
    done
    echo "ok ($rc): $(head -n 1 <<<"$errors")"
}

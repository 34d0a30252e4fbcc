#!/usr/bin/env bash
# SIGKILL a `build --release-dir` at many moments (fractions of a whole run's
# time, and as soon as each stage's file appears: work directory, temporary
# image, image, lock, staging directory and each file staged in it, the final
# release directory). After every kill: each file under a
# final name in the output directory is complete (unsquashfs reads the image,
# python3 parses the lock file), the release directory is either absent or
# complete (sha256sum -c), and an older release in the same directory is
# byte-for-byte untouched. A normal run afterwards publishes and removes the
# staging directories the killed runs left, and nothing else.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool sha256sum unsquashfs python3 head

# Enough incompressible data that packing and publishing take a moment.
tree=$WORK/tree
mkdir -p "$tree/usr/share/blob" "$tree/usr/bin"
for i in 1 2 3; do head -c 4M /dev/urandom >"$tree/usr/share/blob/part$i"; done
printf '#!/bin/sh\necho hi\n' >"$tree/usr/bin/hi"
chmod 0755 "$tree/usr/bin/hi"
profile=$SOURCE_DIR/profiles/my-files.json
rel=$WORK/releases
out=$WORK/out
name=my-files

publish() { # publish VERSION [extra args]
    local version=$1
    shift
    "$SYSEXT_BUILD" --quiet build --download-cache "$BUILD_CACHE" "$profile" --set root="$tree" \
        --set version="$version" -o "$out" --release-dir "$rel" --base-url http://127.0.0.1:1/x "$@"
}
# The same in the background, as the process $! names (exec: no shell between
# the test and sysext-build, so SIGKILL reaches the build itself).
publish_bg() {
    (exec "$SYSEXT_BUILD" --quiet build --download-cache "$BUILD_CACHE" "$profile" --set root="$tree" \
        --set version="$1" -o "$out" --release-dir "$rel" --base-url http://127.0.0.1:1/x 2>/dev/null) &
}
snapshot() { (cd "$1" && find . -printf '%p %s %T@ %i\n' | LC_ALL=C sort && sha256sum $(find . -type f | LC_ALL=C sort)); }

step "an older release to protect (and how long a whole run takes)"
start=$(date +%s.%N)
publish 0.9
duration=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
echo "a whole run: $duration s"
old=$rel/any/$name-0.9-x86-64
snapshot "$old" >"$WORK/old.snapshot"

hit_staging=0 # kills that left a staging directory behind
check_after_kill() { # what
    local what=$1 f entry
    # Final names in the output directory are complete.
    if [ -e "$out/$name.raw" ]; then
        unsquashfs -s "$out/$name.raw" >/dev/null 2>&1 || fail "$what: $out/$name.raw is not a whole image"
        unsquashfs -l "$out/$name.raw" >/dev/null 2>&1 || fail "$what: $out/$name.raw cannot be listed"
    fi
    if [ -e "$out/$name.lock.json" ]; then
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out/$name.lock.json" ||
            fail "$what: a partial lock file"
    fi
    # The release directory holds complete releases and staging directories only.
    for entry in "$rel"/any/* "$rel"/any/.[!.]*; do
        [ -e "$entry" ] || continue
        f=${entry##*/}
        case $f in
        "$name-0.9-x86-64" | "$name-1.0-x86-64")
            (cd "$entry" && sha256sum --strict -c SHA256SUMS >/dev/null 2>&1) ||
                fail "$what: $f is under its final name but incomplete: $(ls -A "$entry")"
            ;;
        ."$name-1.0-x86-64".tmp-??????) ;;
        *) fail "$what: unexpected $entry" ;;
        esac
    done
    snapshot "$old" | diff -u "$WORK/old.snapshot" - >/dev/null || fail "$what: the older release changed"
    ! compgen -G "$rel/any/.$name-1.0-x86-64.tmp-*" >/dev/null || hit_staging=$((hit_staging + 1))
    echo "$what: image $([ -e "$out/$name.raw" ] && echo whole || echo absent)," \
        "release $([ -d "$rel/any/$name-1.0-x86-64" ] && echo whole || echo absent)," \
        "staging $(compgen -G "$rel/any/.$name-1.0-x86-64.tmp-*" | wc -l)"
}

kill_after() { # DELAY: start a publish of 1.0, SIGKILL it after DELAY seconds
    rm -rf "$rel/any/$name-1.0-x86-64" "$out/$name.raw" "$out/$name.lock.json"
    publish_bg 1.0
    local pid=$!
    sleep "$1"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    check_after_kill "killed after $1 s"
}

kill_when() { # GLOB: start a publish of 1.0, SIGKILL it as soon as a new path matches GLOB
    rm -rf "$rel/any/$name-1.0-x86-64" "$out/$name.raw" "$out/$name.lock.json"
    local before pid i
    before=$(compgen -G "$1" || true)
    publish_bg 1.0
    pid=$!
    for i in $(seq 1 20000); do
        compgen -G "$1" | grep -vxF -e "${before:-/}" | grep -q . && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.002
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    check_after_kill "killed at ${1#"$WORK"/}"
}

step "SIGKILL at fractions of a whole run's time"
for fraction in 0.02 0.2 0.4 0.6 0.8 1.0; do
    kill_after "$(awk -v d="$duration" -v f="$fraction" 'BEGIN { printf "%.3f", d * f }')"
done
step "SIGKILL as each stage begins"
staging="$rel/any/.$name-1.0-x86-64.tmp-*"
for stage in "$out/.sysext-build-work.*" "$out/.$name.raw.tmp-*" "$out/$name.raw" "$out/$name.lock.json" \
    "$staging" "$staging/$name-1.0-x86-64.raw" "$staging/$name.flatcar.bu" "$staging/contents.txt" \
    "$staging/manifest.json" "$staging/SHA256SUMS" "$rel/any/$name-1.0-x86-64"; do
    kill_when "$stage"
done
[ "$hit_staging" -gt 0 ] || fail "no kill hit the publishing stage; the test proves too little"
# Leave one stale staging directory for the next step. On a loaded machine the
# poll can miss the moment (the run then publishes whole): try again, a few times.
for attempt in 1 2 3 4 5 6; do
    kill_when "$staging/$name-1.0-x86-64.raw"
    [ -z "$(compgen -G "$staging")" ] || break
done
stale=$(compgen -G "$staging" | wc -l)
[ "$stale" -eq 1 ] || fail "the last kill left $stale staging directories, want 1"

step "a normal run publishes and removes the stale staging directories, nothing else"
mkdir "$rel/any/.not-ours"
echo keep >"$rel/any/.foreign.tmp-abcdef"
mkdir "$rel/any/.foreign2.tmp-qwerty"
echo keep >"$rel/any/.foreign2.tmp-qwerty/file"
rm -rf "$rel/any/$name-1.0-x86-64"
publish 1.0
(cd "$rel/any/$name-1.0-x86-64" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "the normal run's release"
[ "$(ls -A "$rel/any" | LC_ALL=C sort | tr '\n' ' ')" = ".foreign.tmp-abcdef .foreign2.tmp-qwerty .not-ours $name-0.9-x86-64 $name-1.0-x86-64 " ] ||
    fail "after a normal run: $(ls -A "$rel/any")"
snapshot "$old" | diff -u "$WORK/old.snapshot" - || fail "the older release changed"
cmp "$out/$name.raw" "$rel/any/$name-1.0-x86-64/$name-1.0-x86-64.raw" || fail "released image differs from the built one"
echo "ok"

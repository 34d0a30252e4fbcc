#!/usr/bin/env bash
# SIGINT and SIGTERM during pack and build remove the run's temporary files,
# work directory and release staging directory, print "interrupted" and exit
# 130 and 143. After a SIGKILL (no chance to clean up), the next run that
# writes to the same place removes what the killed run left, and only that:
# a temporary of the same naming that a live process holds (flock) stays.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool head flock timeout

# Enough incompressible data that packing at xz takes several seconds.
tree=$WORK/tree
mkdir -p "$tree/usr/share/blob" "$tree/usr/bin"
for i in 1 2 3 4 5 6; do head -c 8M /dev/urandom >"$tree/usr/share/blob/part$i"; done
printf '#!/bin/sh\necho hi\n' >"$tree/usr/bin/hi"
chmod 0755 "$tree/usr/bin/hi"
profile=$SOURCE_DIR/profiles/my-files.json
out=$WORK/out
rel=$WORK/rel
mkdir -p "$out"

pack_bg() { (exec "$SYSEXT_BUILD" pack "$tree" -o "$out/x.raw" --os-id _any --compression xz --jobs 1 2>"$WORK/err") & }
build_bg() {
    (exec "$SYSEXT_BUILD" build --download-cache "$BUILD_CACHE" "$profile" --set root="$tree" --set version=1.0 \
        -o "$out" --release-dir "$rel" --compression xz --jobs 1 --no-cache 2>"$WORK/err") &
}
wait_for() { # GLOB...: until one exists (20 s at most)
    local i
    for i in $(seq 200); do
        compgen -G "$1" >/dev/null && return 0
        sleep 0.1
    done
    fail "nothing matched $1 in 20 s"
}
leftovers() { find "$out" "$rel" -name '.*.tmp-*' -o -name '.sysext-build-work.*' 2>/dev/null; }

for sig in INT TERM; do
    want=$([ $sig = INT ] && echo 130 || echo 143)
    step "pack, SIG$sig while the image is written"
    pack_bg
    pid=$!
    wait_for "$out/.x.raw.tmp-*"
    kill -$sig $pid
    rc=0; wait $pid || rc=$?
    [ "$rc" = "$want" ] || fail "pack after SIG$sig exited $rc, not $want: $(cat "$WORK/err")"
    grep -q "interrupted by SIG$sig" "$WORK/err" || fail "no 'interrupted' message: $(cat "$WORK/err")"
    [ -z "$(leftovers)" ] || fail "SIG$sig left: $(leftovers)"
    [ ! -e "$out/x.raw" ] || fail "SIG$sig left an image under the final name"

    step "build --release-dir, SIG$sig while it works"
    build_bg
    pid=$!
    wait_for "$out/.sysext-build-work.*"
    sleep 1
    kill -$sig $pid
    rc=0; wait $pid || rc=$?
    [ "$rc" = "$want" ] || fail "build after SIG$sig exited $rc, not $want: $(cat "$WORK/err")"
    [ -z "$(leftovers)" ] || fail "SIG$sig left: $(leftovers)"
done

step "SIGKILL leaves files; the next run removes them, and not a live run's"
pack_bg
pid=$!
wait_for "$out/.x.raw.tmp-*"
kill -KILL $pid
wait $pid || true
build_bg
pid=$!
wait_for "$out/.sysext-build-work.*"
kill -KILL $pid
wait $pid || true
[ -n "$(leftovers)" ] || fail "SIGKILL left nothing: the test did not interrupt anything"
# A temporary of the same naming that a live process (this shell) holds.
live=$out/.x.raw.tmp-LIVE00
exec 9>"$live"
flock -n 9 || fail "cannot lock $live"
sleep 1.1 # a sweep takes only temporaries at least a second old (not one being made)
"$SYSEXT_BUILD" -q pack "$tree" -o "$out/x.raw" --os-id _any --compression zstd:1
"$SYSEXT_BUILD" -q build --download-cache "$BUILD_CACHE" "$profile" --set root="$tree" --set version=1.0 -o "$out" --compression zstd:1
left=$(leftovers | grep -v -- "-LIVE00$" || true)
[ -z "$left" ] || fail "the next runs did not remove what SIGKILL left: $left"
[ -e "$live" ] || fail "a sweep removed a temporary a live process holds"
echo PASS

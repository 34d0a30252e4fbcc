#!/usr/bin/env bash
# The README's main job, for real: `sysext-build podman --version 5.x` from the
# Debian archive, then the image merged by systemd-sysext into a debootstrapped
# Debian 13 root like a booted host, where podman, crun, runc, conmon and pasta must run and
# report the versions the lock file names, podman must see crun, overlay and
# netavark, and the prepare logic must never overwrite /etc/containers files.
source "$(dirname "$0")/lib/common.sh"
require_tool debootstrap systemd-sysext unshare script
work=${PODMAN_SMOKE_WORK:-$SOURCE_DIR/build/smoke}
out=$WORK/out

step "build the podman extension"
"$SYSEXT_BUILD" podman --version 5.x -o "$out" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "build"; }
grep -q "^built podman 5\." "$WORK/build.log" || fail "summary does not name podman 5: $(cat "$WORK/build.log")"
# What it replaces on a standard Debian 13 host is counted (and named in a warning).
grep -q "^  host    [0-9]* files replace the host's (.*debian-13-standard-amd64.files)$" "$WORK/build.log" ||
    fail "summary does not count the host's files the image replaces: $(cat "$WORK/build.log")"
[ -f "$out/podman.raw" ] && [ -f "$out/podman.lock.json" ] || fail "image or lock file missing"

step "the image holds every component at its path"
listing=$(unsquashfs -lln "$out/podman.raw")
for p in usr/bin/podman usr/bin/crun usr/sbin/runc usr/bin/conmon usr/bin/pasta usr/bin/passt \
         usr/lib/podman/netavark usr/lib/podman/aardvark-dns usr/bin/catatonit \
         usr/libexec/podman/rootlessport usr/libexec/podman/quadlet \
         "usr/lib/systemd/system-generators/podman-system-generator -> ../../../libexec/podman/quadlet" \
         "usr/lib/systemd/user-generators/podman-user-generator -> ../../../libexec/podman/quadlet" \
         usr/lib/systemd/system/podman.socket usr/lib/systemd/system/podman-prepare@.service \
         usr/libexec/podman-extension/prepare usr/sbin/nft usr/bin/newuidmap usr/bin/newgidmap \
         usr/lib/systemd/user/dbus.socket usr/share/ca-certificates/mozilla \
         usr/lib/systemd/system-generators/podman-extension-generator \
         usr/share/podman/etc/containers/policy.json usr/share/containers/storage.conf \
         usr/lib/extension-release.d/extension-release.podman; do
    grep -qF "squashfs-root/$p" <<<"$listing" || fail "missing in image: $p"
done
release=$(unsquashfs -cat "$out/podman.raw" usr/lib/extension-release.d/extension-release.podman)
for kv in ID=debian VERSION_ID=13 ARCHITECTURE=x86-64 EXTENSION_RELOAD_MANAGER=1; do
    grep -qx "$kv" <<<"$release" || fail "extension-release lacks $kv: $release"
done
unsquashfs -cat "$out/podman.raw" usr/lib/systemd/system/podman-prepare@.service | grep -qx "RemainAfterExit=yes" ||
    fail "prepare service is not RemainAfterExit=yes"
version=$(sed -n 's/^built podman \([^ ]*\) .*/\1/p' "$WORK/build.log")
# Named after upstream's version: Debian's repack suffix (+ds1) is not part of it.
case $version in *+ds*|*+dfsg*) fail "the version $version carries Debian's repack suffix" ;; esac
# The generator has multi-user.target uphold an instance per version and merge; with
# the files in /usr itself (no /usr/.systemd-sysext, as here) the merge is "usr".
# tools/podman-smoke runs it in a merged root.
unsquashfs -d "$WORK/gen" "$out/podman.raw" usr/lib/systemd/system-generators >/dev/null
sh "$WORK/gen/usr/lib/systemd/system-generators/podman-extension-generator" "$WORK/gen/out" "$WORK/gen/out" "$WORK/gen/out"
grep -qx "Upholds=podman-prepare@${version//+/_}-usr.service" "$WORK/gen/out/multi-user.target.d/10-podman-prepare.conf" ||
    fail "the generator does not uphold podman-prepare@${version//+/_}-usr.service: $(cat "$WORK/gen/out/multi-user.target.d/10-podman-prepare.conf")"
# newuidmap and newgidmap work for rootless users only setuid root.
unsquashfs -lln "$out/podman.raw" usr/bin/newuidmap | grep -q '^-rwsr-xr-x 0/0 .*newuidmap$' || fail "newuidmap is not setuid root"
# Nothing a running host does not need: no test binaries, static archives or headers.
if unsquashfs -lln "$out/podman.raw" | grep -E 'podman-testing|\.a$|/include/'; then fail "dead weight in the image"; fi

step "sh accepts the prepare script (tools/podman-smoke has systemd-analyze verify the units)"
unsquashfs -d "$WORK/tree" "$out/podman.raw" usr/libexec/podman-extension >/dev/null
sh -n "$WORK/tree/usr/libexec/podman-extension/prepare" || fail "the prepare script does not parse"

step "the lock file rebuilds the same bytes"
"$SYSEXT_BUILD" -q podman --lock "$out/podman.lock.json" -o "$WORK/again" || fail "rebuild from lock"
cmp "$out/podman.raw" "$WORK/again/podman.raw" || fail "rebuild from the lock file differs"

step "merge into Debian 13 and run every component"
bash "$SOURCE_DIR/tools/podman-smoke" --image "$out" --work "$work"
echo "podman_real: ok"

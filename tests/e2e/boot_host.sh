#!/usr/bin/env bash
# The booted-host test (issue 14): builds the podman extension with the real
# executable, signs it (sidecars and a disk image), makes tampered copies, and
# boots Debian guests under QEMU (tests/vm/boot.sh) that merge the images the
# way hosts do and run the checks in tests/vm/checks/:
#   trixie    Debian 13, systemd-sysext.service enabled with a signatures-only
#             image policy (drop-in), certificate in /etc/verity.d; podman.raw a
#             signed disk image and a small image signed with sidecars merged at
#             boot (trixie-signed-boot.sh); on that podman: components, the
#             prepare service, podman as root and rootless, quadlet, refresh to a
#             new (unsigned) version, unmerge, merge (trixie-podman.sh); then
#             signed sidecars and disk image merged at run time under the policy,
#             unsigned, foreign-key and tampered images refused
#             (trixie-signed-runtime.sh); then systemd-sysupdate 257 with
#             Verify=yes updates two small signed extensions, a disk image and
#             one with sidecars, from 1.0 to 1.1 to the revision 1.1-r1 from a
#             served index (`sysext-build index`, x86-64 and arm64,
#             SHA256SUMS.gpg by a throwaway OpenPGP key) through their
#             sysext-update-NAME.service, merges them under a signed-only
#             policy, and refuses an index signed by another key (sysupdate.sh)
#   bookworm  Debian 12 (systemd 252): a VERSION_ID=12 image, an ID=_any image
#             and a linked NAME-VERSION-ARCH.raw merged at boot (bookworm.sh);
#             then systemd 254 from bookworm-backports (Debian 12's own 252 has
#             no systemd-sysupdate) and the same updates (sysupdate.sh)
# Each check is a PASS/FAIL line; the reports go to $BOOT_REPORT_DIR (default
# build/reports/boot-host-*.txt), with the journal and console of a failed boot.
# The guest roots are debootstrapped once and cached (tests/vm/guest-root.sh).
# The guest's network is QEMU's user mode with restrict=on: it reaches nothing.
# BOOT_HOST_ONLY=bookworm runs only the boots named.
# BOOT_HOST_BUDGET (seconds, default 2340: ctest gives this test 2400) bounds
# the whole test: each boot gets what is left, minus a reserve for the boots
# after it, so a slow machine ends with a report (the unfinished boot's checks
# missing and its `boot-completed` failed) rather than a test killed by ctest.
vm_cache=${BOOT_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sysext-build/vm} # before common.sh moves XDG_CACHE_HOME
source "$(dirname "$0")/lib/common.sh"
export BOOT_VM_CACHE=$vm_cache
require_tool qemu-system-x86_64 mkfs.ext4 debugfs debootstrap unsquashfs sfdisk python3 zstd gpg gpgv gpgconf
vm=$SOURCE_DIR/tests/vm
report_dir=${BOOT_REPORT_DIR:-$SOURCE_DIR/build/reports}
mkdir -p "$report_dir"

# Versions the lock file names, upstream part (podman 5.4.2+ds1-2 -> 5.4.2).
want() {
    python3 -c 'import json,sys,re
for e in json.load(open(sys.argv[1]))["inputs"]:
    if e["name"] == sys.argv[2]:
        v = e["version"].split(":")[-1].rsplit("-", 1)[0]
        print(re.sub(r"\+ds\d*$", "", v)); break' "$1" "$2"
}
release_field() { # release_field IMAGE NAME KEY
    unsquashfs -cat "$1" "usr/lib/extension-release.d/extension-release.$2" | sed -n "s/^$3=//p"
}
run() { # run LOG COMMAND...: quiet unless it fails
    local log=$1
    shift
    "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "$*"; }
}

# The guest roots (cached; debootstrapped on a first run) while the images build.
for suite in trixie bookworm; do
    "$vm/guest-root.sh" "$suite" >"$WORK/root-$suite" 2>"$WORK/root-$suite.log" &
    echo $! >"$WORK/root-$suite.pid"
done
guest_root() { # guest_root SUITE: wait for guest-root.sh (not in a subshell: its child)
    wait "$(cat "$WORK/root-$1.pid")" || { cat "$WORK/root-$1.log" >&2; fail "no $1 guest root"; }
}

step "build the podman extension, and a second version of it"
run "$WORK/build-v1.log" "$SYSEXT_BUILD" podman --version 5.x -o "$WORK/v1"
v1=$WORK/v1/podman.raw
v1_id=$(release_field "$v1" podman SYSEXT_VERSION_ID)
[ -n "$v1_id" ] || fail "no SYSEXT_VERSION_ID in $v1"
# The same profile, its version given instead of taken from the podman package:
# a new image version as the next release would be, with the same packages.
mkdir -p "$WORK/profiles2"
cp -a "$SOURCE_DIR/profiles/." "$WORK/profiles2/"
python3 - "$WORK/profiles2/podman.json" <<'EOF'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
del d["version_from"]
d.pop("release_versions", None)
json.dump(d, open(p, "w"), indent=2)
EOF
v2_id=$v1_id+boottest2
run "$WORK/build-v2.log" "$SYSEXT_BUILD" build "$WORK/profiles2/podman.json" --set "version=$v2_id" -o "$WORK/v2"
v2=$WORK/v2/podman.raw
[ "$(release_field "$v2" podman SYSEXT_VERSION_ID)" = "$v2_id" ] || fail "the second image is not version $v2_id"
lock=$WORK/v1/podman.lock.json

step "keys, signed images and tampered copies"
run "$WORK/keygen.log" "$SYSEXT_BUILD" keygen -o "$WORK/keys"
run "$WORK/keygen2.log" "$SYSEXT_BUILD" keygen -o "$WORK/keys2"
key=$WORK/keys/development.key cert=$WORK/keys/development.crt
variants=$WORK/variants
sidecars() { # sidecars DIR KEYDIR
    mkdir -p "$1"
    cp "$v1" "$1/podman.raw"
    run "$1.log" "$SYSEXT_BUILD" sign "$1/podman.raw" --key "$2/development.key" --cert "$2/development.crt"
}
ddi() { # ddi DIR KEYDIR
    mkdir -p "$1"
    run "$1.log" "$SYSEXT_BUILD" sign "$v1" --key "$2/development.key" --cert "$2/development.crt" --ddi -o "$1/podman.raw"
}
sidecars "$variants/sidecars" "$WORK/keys"
ddi "$variants/ddi" "$WORK/keys"
sidecars "$variants/otherkey-sidecars" "$WORK/keys2"
ddi "$variants/otherkey-ddi" "$WORK/keys2"
mkdir -p "$variants/unsigned"
cp "$v1" "$variants/unsigned/podman.raw"
for what in data tree sig; do
    for kind in sidecars ddi; do
        cp -a "$variants/$kind" "$variants/flip-$what-$kind"
        python3 "$vm/flip-byte.py" "$what" "$variants/flip-$what-$kind/podman.raw" >>"$WORK/flip.log" ||
            fail "flip-byte.py $what $kind"
    done
done
roothash=$(cat "$variants/sidecars/podman.roothash")
# EROFS (issue 16, trixie-erofs.sh): the same inputs (the lock) packed as EROFS
# at Flatcar's settings, a bare image and a signed disk image, whose root hash
# the guest finds next to it.
erofs_flags=(--format erofs --compression lz4hc:12 --erofs-pcluster 64K --tail-packing)
run "$WORK/build-erofs.log" "$SYSEXT_BUILD" build --lock "$lock" "${erofs_flags[@]}" -o "$WORK/erofs"
mkdir -p "$variants/erofs" "$variants/erofs-ddi"
cp "$WORK/erofs/podman.raw" "$variants/erofs/podman.raw"
# The disk image at all of Flatcar's settings: fragments too (-Efragments,ztailpacking).
"$SYSEXT_BUILD" --json build --lock "$lock" "${erofs_flags[@]}" --fragments -o "$WORK/erofs-ddi" --key "$key" --cert "$cert" \
    --ddi >"$WORK/build-erofs-ddi.json" 2>"$WORK/build-erofs-ddi.log" || { cat "$WORK/build-erofs-ddi.log" >&2; fail "build --ddi --format erofs"; }
cp "$WORK/erofs-ddi/podman.raw" "$variants/erofs-ddi/podman.raw"
python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["root_hash"])' "$WORK/build-erofs-ddi.json" \
    >"$variants/erofs-ddi/roothash"
run "$WORK/verify-erofs-ddi.log" "$SYSEXT_BUILD" verify "$variants/erofs-ddi/podman.raw" --cert "$cert"
# systemd-sysext would refuse a tampered copy for a reason of its own if ours
# were already broken: our verify must accept the signed ones.
for kind in sidecars ddi; do
    run "$WORK/verify-$kind.log" "$SYSEXT_BUILD" verify "$variants/$kind/podman.raw" --cert "$cert"
done

step "small images: a signed marker for Debian 13, two for Debian 12 and one for any host"
small() { # small NAME DIR -- PACK-ARGS...: DIR/usr/share/NAME/marker packed as NAME.raw
    local name=$1 dir=$2
    shift 3
    mkdir -p "$dir/tree-$name/usr/share/$name"
    echo "$name marker" >"$dir/tree-$name/usr/share/$name/marker"
    run "$dir/$name.log" "$SYSEXT_BUILD" pack "$dir/tree-$name" -o "$dir/$name.raw" "$@"
}
small bootmark "$WORK/small" -- --os-id debian --os-version-id 13 --arch x86-64
run "$WORK/small/sign.log" "$SYSEXT_BUILD" sign "$WORK/small/bootmark.raw" --key "$key" --cert "$cert"
mark_roothash=$(cat "$WORK/small/bootmark.roothash")
small hello12 "$WORK/small" -- --os-id debian --os-version-id 12 --arch x86-64
small helloany "$WORK/small" -- --os-id _any --arch x86-64
mkdir -p "$WORK/small/tree-my-files/usr/share/my-files"
echo "my-files marker" >"$WORK/small/tree-my-files/usr/share/my-files/marker"
run "$WORK/small/my-files.log" "$SYSEXT_BUILD" build "$SOURCE_DIR/profiles/my-files.json" \
    --set "root=$WORK/small/tree-my-files" --set version=1.0 -o "$WORK/small/my-files"

# --- the files each guest gets -------------------------------------------------------
enable() { # enable ROOT TARGET UNIT [PATH]: the link systemctl enable makes
    mkdir -p "$1/etc/systemd/system/$2.wants"
    ln -sf "${4:-/usr/lib/systemd/system/$3}" "$1/etc/systemd/system/$2.wants/$3"
}
bbroot() { # bbroot DIR TAG: a static busybox root whose httpd serves "boot-host-www TAG"
    local d=$1 a
    mkdir -p "$d/bin" "$d/www" "$d/etc" "$d/dev" "$d/proc" "$d/sys" "$d/tmp" "$d/run" "$d/var" "$d/root"
    cp "$guest_busybox" "$d/bin/busybox"
    for a in sh echo cat true id ip wget nslookup httpd sleep ls; do
        ln -sf busybox "$d/bin/$a"
    done
    echo "boot-host-www $2" >"$d/www/index.html"
    chmod 1777 "$d/tmp"
}
guest_root trixie
entry_trixie=$(cat "$WORK/root-trixie")
guest_busybox=$entry_trixie/root/bin/busybox
[ -x "$guest_busybox" ] || fail "no busybox in the guest root (busybox-static)"

f=$WORK/files-trixie
mkdir -p "$f/var/lib/extensions" "$f/var/lib/boot-checks/images" "$f/etc/containers/systemd" \
         "$f/etc/verity.d" "$f/etc/systemd/system/systemd-sysext.service.d"
# At boot: podman as a signed disk image (as releases publish it) and a small
# image signed with sidecars, merged under a signatures-only policy.
cp "$variants/ddi/podman.raw" "$f/var/lib/extensions/podman.raw"
cp "$WORK/small"/bootmark.{raw,verity,roothash,roothash.p7s} "$f/var/lib/extensions/"
cp "$cert" "$f/etc/verity.d/boot-test.crt"
cat >"$f/etc/systemd/system/systemd-sysext.service.d/50-signed-only.conf" <<'EOF'
# Merge signed images only (their certificate is in /etc/verity.d).
[Service]
ExecStart=
ExecStart=systemd-sysext refresh --image-policy=root=signed+absent:usr=signed+absent
EOF
enable "$f" sysinit.target systemd-sysext.service
# At run time: both versions, and every signed, unsigned and tampered variant.
cp "$variants/ddi/podman.raw" "$f/var/lib/boot-checks/images/podman-v1.raw"
cp "$v2" "$f/var/lib/boot-checks/images/podman-v2.raw"
cp -a "$variants/." "$f/var/lib/boot-checks/images/"
rm -f "$f/var/lib/boot-checks/images"/*.log
cat >"$f/var/lib/boot-checks/vars" <<EOF
V1_ID='$v1_id'
V2_ID='$v2_id'
PODMAN_V='$(want "$lock" podman)'
CRUN_V='$(want "$lock" crun)'
RUNC_V='$(want "$lock" runc)'
CONMON_V='$(want "$lock" conmon)'
ROOTHASH='$roothash'
MARK_ROOTHASH='$mark_roothash'
EOF
bbroot "$f/srv/bbroot" container
for q in q-boot q-late q-merge; do
    bbroot "$f/srv/$q" "$q"
done
mkdir -p "$f/srv/www"
echo "boot-host-www host" >"$f/srv/www/index.html"
cat >"$f/etc/containers/systemd/q-boot.container" <<'EOF'
# A quadlet unit the admin wrote: a web server from a local root, default network.
[Unit]
Description=Quadlet container q-boot

[Container]
Rootfs=/srv/q-boot
Exec=/bin/httpd -f -p 80 -h /www

[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$f/etc/systemd/system"
cat >"$f/etc/systemd/system/canary.service" <<'EOF'
# An enabled unit of the admin's, which the admin will stop.
[Unit]
Description=The admin's canary

[Service]
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
EOF
enable "$f" multi-user.target canary.service /etc/systemd/system/canary.service
cat >"$f/etc/systemd/system/host-www.service" <<'EOF'
# A web server on the host, for containers to reach.
[Unit]
Description=Web server on the host, port 8099

[Service]
ExecStart=/bin/busybox httpd -f -p 8099 -h /srv/www

[Install]
WantedBy=multi-user.target
EOF
enable "$f" multi-user.target host-www.service /etc/systemd/system/host-www.service

# systemd-sysupdate: two extensions (a disk image, sidecars), the index after
# each of three publications, and a forged one (tests/e2e/lib/sysupdate_files.sh).
step "sysupdate: my-files (disk image) and my-sidecars 1.0, 1.1, 1.1-r1 for x86-64 and arm64 in a signed index"
source "$SOURCE_DIR/tests/e2e/lib/sysupdate_files.sh"
trap 'sysupdate_cleanup; cleanup_work' EXIT
sysupdate_publish "$key" "$cert"
sysupdate_install "$f"

b=$WORK/files-bookworm
mkdir -p "$b/var/lib/extensions" "$b/etc/extensions" "$b/var/lib/boot-checks/images"
cp "$WORK/small/hello12.raw" "$WORK/small/helloany.raw" "$b/var/lib/extensions/"
cp "$WORK/small/my-files/my-files.raw" "$b/var/lib/boot-checks/images/my-files-1.0-x86-64.raw"
ln -s /var/lib/boot-checks/images/my-files-1.0-x86-64.raw "$b/etc/extensions/my-files.raw"
enable "$b" sysinit.target systemd-sysext.service
sysupdate_install "$b"

# --- the boots -------------------------------------------------------------------------------
guest_root bookworm
failed=()
budget=${BOOT_HOST_BUDGET:-2340}
boot() { # boot NAME SUITE FILES RESERVE CHECKS...: RESERVE seconds are kept for the boots after this one
    local name=$1 suite=$2 files=$3 reserve=$4 c checks=()
    shift 4
    case " ${BOOT_HOST_ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
    for c in "$@"; do
        checks+=(--checks "$vm/checks/$c.sh")
    done
    local limit=$((budget - SECONDS - reserve))
    [ "$limit" -ge 60 ] || limit=60
    step "boot $name ($suite), ${SECONDS} s into the test, at most $limit s"
    bash "$vm/boot.sh" --suite "$suite" --name "$name" "${checks[@]}" --files "$files" \
        --timeout "$limit" --report-dir "$report_dir" || failed+=("$name")
}
boot trixie trixie "$f" 600 trixie-signed-boot trixie-podman trixie-signed-runtime trixie-erofs sysupdate
boot bookworm bookworm "$b" 0 bookworm sysupdate

[ "${#failed[@]}" -eq 0 ] ||
    fail "checks failed in: ${failed[*]} after ${SECONDS} s (reports in $report_dir/boot-host-*.txt)"
echo "boot_host: ok (${SECONDS} s)"

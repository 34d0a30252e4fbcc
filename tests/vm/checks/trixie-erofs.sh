# shellcheck shell=bash
# The podman extension as an EROFS image (issue 16), on a booted Debian 13
# host: merged at run time as a bare EROFS image (systemd-sysext refresh) and
# as a signed EROFS disk image under the signatures-only image policy, each
# running containers as root and rootless. Runs after
# trixie-signed-runtime.sh, before trixie-sysupdate.sh, and leaves what it
# found: podman's signed squashfs disk image in /var/lib/extensions, unmerged. What the run puts in place (tests/e2e/boot_host.sh):
#   /var/lib/boot-checks/images/erofs/podman.raw       podman (version $V1_ID, the
#       same inputs, `build --lock --format erofs`): a bare EROFS image, LZ4HC
#       level 12, 64 KiB physical clusters, tail packing
#   /var/lib/boot-checks/images/erofs-ddi/podman.raw   the same, `build --ddi`:
#       a signed disk image (root, root-verity, root-verity-sig)
#   /var/lib/boot-checks/images/erofs-ddi/roothash     its dm-verity root hash
#   /etc/verity.d/boot-test.crt            the signing certificate
#   /var/lib/boot-checks/vars              V1_ID, PODMAN_V
source /var/lib/boot-checks/lib.sh
source /var/lib/boot-checks/vars
IMAGES=/var/lib/boot-checks/images
POLICY=root=signed+absent:usr=signed+absent

erofs_variant() { # erofs_variant VARIANT: only this podman image in /var/lib/extensions
    systemd-sysext unmerge >/dev/null
    mkdir -p /var/lib/boot-checks/parked
    mv /var/lib/extensions/bootmark.* /var/lib/boot-checks/parked/ 2>/dev/null || true
    rm -f /var/lib/extensions/podman.*
    [ -f "$IMAGES/$1/podman.raw" ] || die "no variant $1"
    ln -f "$IMAGES/$1/podman.raw" /var/lib/extensions/podman.raw
    ls -l /var/lib/extensions
}

# fs_type DEVICE: the file system blkid finds on DEVICE (from its bytes).
fs_type() {
    blkid -p -o value -s TYPE "$1"
}

# The containers: as root, and in tester's login session (rootless, newuidmap).
erofs_containers() {
    local out
    podman image exists localhost/busybox:boot || import_busybox
    out=$(podman run --rm --network none --runtime crun localhost/busybox:boot /bin/echo "hello-$1")
    echo "$out"
    [ "$out" = "hello-$1" ] || die "unexpected output from the root container: $out"
    as_tester 'podman image exists localhost/busybox:boot || { tar -C /srv/bbroot -cf - . | podman import --change CMD=/bin/sh - localhost/busybox:boot; }'
    out=$(as_tester "podman run --rm --network none localhost/busybox:boot /bin/echo rootless-$1")
    echo "$out"
    [ "$out" = "rootless-$1" ] || die "unexpected output from the rootless container: $out"
}

erofs_refresh() {
    local c loops dev types=''
    erofs_variant erofs
    c=$(cursor)
    systemd-sysext refresh
    settle
    systemd-sysext status
    podman_merged || die "the EROFS image was not merged by systemd-sysext refresh"
    grep -qx "SYSEXT_VERSION_ID=$V1_ID" "$RELEASE" || die "merged release is not version $V1_ID"
    # The loop device systemd-sysext attached for the image holds EROFS.
    loops=$(losetup -n -O NAME,BACK-FILE | awk '$2 ~ /podman\.raw/ { print $1 }')
    echo "loop devices of podman.raw: ${loops:-none}"
    [ -n "$loops" ] || die "no loop device backs podman.raw"
    for dev in $loops; do
        types="$types $(fs_type "$dev")"
    done
    echo "file systems:$types"
    echo "$types" | has -w erofs || die "the merged image is not EROFS:$types"
    journalctl -k -b --no-pager -o cat | grep -i 'erofs' | tail -3 || true
    since "$c" | grep -i sysext || true
    podman --version | has -F "$PODMAN_V" || die "podman does not run from the EROFS image"
    erofs_containers erofs
}
check -t 300 erofs-refresh-runs-containers erofs_refresh

erofs_ddi_signed() {
    local roothash
    roothash=$(cat "$IMAGES/erofs-ddi/roothash")
    erofs_variant erofs-ddi
    systemd-sysext merge --image-policy="$POLICY"
    settle
    systemd-sysext status
    podman_merged || die "the signed EROFS disk image was not merged under --image-policy=$POLICY"
    verity_device "$roothash"
    echo "dm-verity device /dev/mapper/$roothash-verity: $(fs_type "/dev/mapper/$roothash-verity")"
    [ "$(fs_type "/dev/mapper/$roothash-verity")" = erofs ] || die "the verity device does not hold EROFS"
    podman --version | has -F "$PODMAN_V" || die "podman does not run from the signed EROFS disk image"
    erofs_containers erofs-ddi
}
check -t 300 erofs-ddi-signed-runs-containers erofs_ddi_signed

erofs_unmerge() {
    systemd-sysext unmerge
    settle
    ! podman_merged || die "unmerge left podman merged"
    # As trixie-signed-runtime.sh left it: the signed squashfs disk image, unmerged.
    rm -f /var/lib/extensions/podman.*
    ln -f "$IMAGES/ddi"/podman.* /var/lib/extensions/
    systemd-sysext status
}
check erofs-unmerge erofs_unmerge

# shellcheck shell=bash
# Checks of signed images on a booted Debian 13 host (systemd 257 verifies the
# PKCS#7 signature in userspace against /etc/verity.d and sets up dm-verity).
# What the run puts in place (tests/e2e/boot_host.sh):
#   /etc/verity.d/boot-test.crt            the signing certificate
#   systemd-sysext.service, enabled, with a drop-in that merges under
#   --image-policy=root=signed+absent:usr=signed+absent
#   /var/lib/extensions/podman.raw         the podman image as a signed disk image (sign --ddi)
#   /var/lib/extensions/bootmark.*         a small image signed with sidecars
#   /var/lib/boot-checks/images/VARIANT/podman.*   for the run-time merges:
#       sidecars, ddi                      signed with the trusted key
#       unsigned                           the bare image
#       otherkey-sidecars, otherkey-ddi    signed with a key /etc/verity.d does not hold
#       flip-data-*, flip-tree-*, flip-sig-*   one byte flipped in the image, the
#                                          dm-verity tree, the signature
#   /var/lib/boot-checks/vars              ROOTHASH (podman's), MARK_ROOTHASH, PODMAN_V
source /var/lib/boot-checks/lib.sh
source /var/lib/boot-checks/vars
IMAGES=/var/lib/boot-checks/images
POLICY=root=signed+absent:usr=signed+absent

check -t 320 boot-settled settle 300

verity_device() { # verity_device ROOTHASH: a dm-verity device for this root hash exists
    dmsetup ls --target verity
    dmsetup ls --target verity | grep -q "^$1-verity" || die "no dm-verity device for root hash $1"
}

boot_policy() {
    systemctl cat systemd-sysext.service
    [ "$(systemctl is-enabled systemd-sysext.service)" = enabled ] || die "systemd-sysext.service is not enabled"
    systemctl show -p ExecStart systemd-sysext.service | grep -qF -- "--image-policy=$POLICY" ||
        die "systemd-sysext.service does not merge under --image-policy=$POLICY"
    journalctl -b --no-pager -o cat -u systemd-sysext.service
    [ "$(systemctl is-active systemd-sysext.service)" = active ] || die "systemd-sysext.service is not active"
    ls -l /etc/verity.d
}
check signed-boot-policy boot_policy

signed_ddi_at_boot() {
    systemd-sysext status
    podman_merged || die "the signed disk image podman.raw was not merged at boot"
    verity_device "$ROOTHASH"
    podman --version | grep -qF "$PODMAN_V" || die "podman does not run from the signed disk image"
}
check signed-ddi-merged-at-boot signed_ddi_at_boot

signed_sidecars_at_boot() {
    [ -f /usr/share/bootmark/marker ] || die "bootmark.raw (signed sidecars) was not merged at boot"
    cat /usr/share/bootmark/marker
    verity_device "$MARK_ROOTHASH"
}
check signed-sidecars-merged-at-boot signed_sidecars_at_boot

signed_ddi_runs_containers() {
    podman_merged || die "podman is not merged"
    import_busybox
    podman run --rm --network none localhost/busybox:boot /bin/echo hello-signed | grep -qx hello-signed ||
        die "no container runs from the signed disk image"
}
check signed-ddi-runs-containers signed_ddi_runs_containers

# From here on only the podman image is in /var/lib/extensions, one variant at a time.
use_variant() {
    systemd-sysext unmerge >/dev/null
    mkdir -p /var/lib/boot-checks/parked
    mv /var/lib/extensions/bootmark.* /var/lib/boot-checks/parked/ 2>/dev/null || true
    rm -f /var/lib/extensions/podman.*
    [ -d "$IMAGES/$1" ] || die "no variant $1"
    cp "$IMAGES/$1"/podman.* /var/lib/extensions/
    ls -l /var/lib/extensions
}

merge_signed() { # merge_signed VARIANT: merged under the signatures-only policy, with dm-verity
    use_variant "$1"
    systemd-sysext merge --image-policy="$POLICY"
    settle
    systemd-sysext status
    podman_merged || die "$1 was not merged under --image-policy=$POLICY"
    verity_device "$ROOTHASH"
    podman --version | grep -qF "$PODMAN_V" || die "podman does not run from $1"
}
check runtime-signed-sidecars merge_signed sidecars
check runtime-signed-ddi merge_signed ddi

refused() { # refused VARIANT: the signatures-only merge must not merge it
    local rc=0
    use_variant "$1"
    systemd-sysext merge --image-policy="$POLICY" 2>&1 || rc=$?
    echo "systemd-sysext merge exited with $rc"
    settle
    systemd-sysext status
    ! podman_merged || die "$1 was merged under --image-policy=$POLICY"
    ! command -v podman || die "podman is on the host after merging $1"
    dmesg | grep -i verity | tail -5 || true
}
check refuses-unsigned refused unsigned
check refuses-other-key-sidecars refused otherkey-sidecars
check refuses-other-key-ddi refused otherkey-ddi
check refuses-flipped-image-sidecars refused flip-data-sidecars
check refuses-flipped-tree-sidecars refused flip-tree-sidecars
check refuses-flipped-signature-sidecars refused flip-sig-sidecars
check refuses-flipped-image-ddi refused flip-data-ddi
check refuses-flipped-tree-ddi refused flip-tree-ddi
check refuses-flipped-signature-ddi refused flip-sig-ddi

signed_unmerge_refresh() {
    use_variant ddi
    systemd-sysext refresh --image-policy="$POLICY"
    settle
    podman_merged || die "refresh did not merge the signed disk image"
    systemd-sysext unmerge
    settle
    ! podman_merged || die "unmerge left podman merged"
    systemd-sysext status
}
check signed-refresh-unmerge signed_unmerge_refresh

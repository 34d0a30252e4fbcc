# shellcheck shell=bash
# Signed images merged at run time under a signatures-only image policy, and
# the images that policy must refuse: the last checks of the trixie boot.
# What the run puts in place (tests/e2e/boot_host.sh):
#   /etc/verity.d/boot-test.crt            the signing certificate
#   /var/lib/boot-checks/images/VARIANT/podman.*   one variant per merge:
#       sidecars, ddi                      signed with the trusted key
#       unsigned                           the bare image
#       otherkey-sidecars, otherkey-ddi    signed with a key /etc/verity.d does not hold
#       flip-data-*, flip-tree-*, flip-sig-*   one byte flipped in the image, the
#                                          dm-verity tree, the signature (tests/vm/flip-byte.py)
#   /var/lib/boot-checks/vars              ROOTHASH (podman's), PODMAN_V
source /var/lib/boot-checks/lib.sh
source /var/lib/boot-checks/vars
IMAGES=/var/lib/boot-checks/images
POLICY=root=signed+absent:usr=signed+absent

# From here on only the podman image is in /var/lib/extensions, one variant at a time.
use_variant() {
    systemd-sysext unmerge >/dev/null
    mkdir -p /var/lib/boot-checks/parked
    mv /var/lib/extensions/bootmark.* /var/lib/boot-checks/parked/ 2>/dev/null || true
    rm -f /var/lib/extensions/podman.*
    [ -d "$IMAGES/$1" ] || die "no variant $1"
    ln -f "$IMAGES/$1"/podman.* /var/lib/extensions/ # links: no copies to write back
    ls -l /var/lib/extensions
}

merge_signed() { # merge_signed VARIANT: merged under the signatures-only policy, with dm-verity
    use_variant "$1"
    systemd-sysext merge --image-policy="$POLICY"
    settle
    systemd-sysext status
    podman_merged || die "$1 was not merged under --image-policy=$POLICY"
    verity_device "$ROOTHASH"
    podman --version | has -F "$PODMAN_V" || die "podman does not run from $1"
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

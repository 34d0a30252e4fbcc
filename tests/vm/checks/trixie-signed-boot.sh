# shellcheck shell=bash
# Signed images merged at boot on a booted Debian 13 host: systemd 257 checks
# the PKCS#7 signature in userspace against /etc/verity.d and sets up
# dm-verity. The first checks of the trixie boot (then trixie-podman.sh runs
# on the podman image merged here, then trixie-signed-runtime.sh).
# What the run puts in place (tests/e2e/boot_host.sh):
#   /etc/verity.d/boot-test.crt            the signing certificate
#   systemd-sysext.service, enabled, with a drop-in that merges under
#   --image-policy=root=signed+absent:usr=signed+absent
#   /var/lib/extensions/podman.raw         the podman image as a signed disk image (sign --ddi)
#   /var/lib/extensions/bootmark.*         a small image signed with sidecars
#   /var/lib/boot-checks/vars              ROOTHASH (podman's), MARK_ROOTHASH, PODMAN_V
source /var/lib/boot-checks/lib.sh
source /var/lib/boot-checks/vars
POLICY=root=signed+absent:usr=signed+absent

boot_policy() {
    systemctl cat systemd-sysext.service
    [ "$(systemctl is-enabled systemd-sysext.service)" = enabled ] || die "systemd-sysext.service is not enabled"
    systemctl show -p ExecStart systemd-sysext.service | has -F -- "--image-policy=$POLICY" ||
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
    podman --version | has -F "$PODMAN_V" || die "podman does not run from the signed disk image"
}
check signed-ddi-merged-at-boot signed_ddi_at_boot

signed_sidecars_at_boot() {
    [ -f /usr/share/bootmark/marker ] || die "bootmark.raw (signed sidecars) was not merged at boot"
    cat /usr/share/bootmark/marker
    verity_device "$MARK_ROOTHASH"
}
check signed-sidecars-merged-at-boot signed_sidecars_at_boot

# shellcheck shell=bash
# Checks on a booted Debian 12 host (systemd 252): the place for what depends
# on the host's systemd version. What the run puts in place
# (tests/e2e/boot_host.sh), with systemd-sysext.service enabled:
#   /var/lib/extensions/hello12.raw    packed for ID=debian VERSION_ID=12
#   /var/lib/extensions/helloany.raw   packed for ID=_any
#   /etc/extensions/my-files.raw ->    /var/lib/boot-checks/images/my-files-1.0-x86-64.raw,
#                                      built from profiles/my-files.json (its release
#                                      file carries user.extension-release.strict=0)
source /var/lib/boot-checks/lib.sh


bookworm_merged() {
    systemctl --version | head -1
    [ "$(systemctl is-active systemd-sysext.service)" = active ] || die "systemd-sysext.service is not active"
    journalctl -b --no-pager -o cat -u systemd-sysext.service
    [ -f /usr/share/hello12/marker ] || die "hello12.raw (ID=debian VERSION_ID=12) was not merged at boot"
    [ -f /usr/share/helloany/marker ] || die "helloany.raw (ID=_any) was not merged at boot"
}
check bookworm-merged-at-boot bookworm_merged

bookworm_status() {
    systemd-sysext status
    systemd-sysext list
    merged_into /usr | has -x hello12 || die "status does not show hello12 on /usr"
    merged_into /usr | has -x helloany || die "status does not show helloany on /usr"
}
check bookworm-sysext-status bookworm_status

bookworm_linked() {
    ls -l /etc/extensions/
    systemd-sysext status
    [ -e /usr/lib/extension-release.d/extension-release.my-files ] ||
        die "my-files.raw, a link to my-files-1.0-x86-64.raw, was not merged (user.extension-release.strict=0)"
}
check bookworm-linked-image-strict0 bookworm_linked

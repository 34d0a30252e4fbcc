# shellcheck shell=bash
# The default checks of tools/boot-host: every image put in
# /var/lib/extensions was merged at boot by systemd-sysext.service.
source /var/lib/boot-checks/lib.sh


sysext_service() {
    systemctl --version | head -1
    systemctl status --no-pager systemd-sysext.service | head -12 || true
    journalctl -b --no-pager -o cat -u systemd-sysext.service
    [ "$(systemctl is-active systemd-sysext.service)" = active ] || die "systemd-sysext.service is not active"
}
check sysext-service sysext_service

all_merged() {
    local img name missing=''
    systemd-sysext status
    systemd-sysext list
    for img in /var/lib/extensions/*.raw; do
        name=$(basename "$img" .raw)
        { merged_into /usr; merged_into /opt; } | has -x "$name" || missing="$missing $name"
        [ ! -e "/usr/lib/extension-release.d/extension-release.$name" ] ||
            cat "/usr/lib/extension-release.d/extension-release.$name"
    done
    [ -z "$missing" ] || die "not merged:$missing"
}
check merged-at-boot all_merged

# shellcheck shell=bash
# systemd-sysupdate (Debian 13: 257, /usr/lib/systemd/systemd-sysupdate from
# systemd-container) updating a signed extension from a served index with
# Verify=yes: the last checks of the trixie boot. Debian 12 ships no
# systemd-sysupdate in any package, so the bookworm boot has no such checks.
# What the run puts in place (tests/e2e/boot_host.sh):
#   /var/lib/boot-checks/sysupdate/idx-a, idx-b, idx-c   the index (`sysext-build
#       index`) after each publication: my-files 1.0, then 1.1, then 1.1-r1 (a
#       revision: the same upstream version rebuilt), each for x86-64 and arm64,
#       signed disk images (--ddi, as the release workflow publishes them:
#       systemd-sysupdate 257 matches MatchPattern=NAME-@v-%a.roothash on
#       NAME-V-A.roothash.p7s too, so sidecar transfers install the signature
#       as the root hash), SHA256SUMS signed with a throwaway
#       OpenPGP key; idx-forged: idx-c's files with the signature of
#       another key
#   /etc/systemd/import-pubring.gpg       that key's public key, where
#                                         systemd-pull looks for it
#   /etc/verity.d/boot-test.crt           the certificate of the images' signatures
#   /var/lib/boot-checks/vars             SU_PORT, SU_PATH (the index's URL path),
#                                         SU_ROOTHASH_A/B/C (x86-64 root hashes)
# The host installs the transfers and the update units as a user would: from
# the index, over HTTP (busybox httpd on the guest's loopback).
source /var/lib/boot-checks/lib.sh
source /var/lib/boot-checks/vars
SU=/var/lib/boot-checks/sysupdate
WWW=/srv/sysupdate
URL=http://127.0.0.1:$SU_PORT$SU_PATH
LINK=/etc/extensions/my-files.raw
MY_RELEASE=/usr/lib/extension-release.d/extension-release.my-files

serve() { # serve SNAPSHOT: the index as the publisher's next upload leaves it
    mkdir -p "$WWW$SU_PATH"
    rm -f "$WWW$SU_PATH"/*
    cp "$SU/$1"/* "$WWW$SU_PATH/"
    fetch "$URL/SHA256SUMS" >/dev/null
}

sysupdate_setup() {
    /usr/lib/systemd/systemd-sysupdate --version
    command -v gpg
    # Only this extension from here on: the podman variants the earlier checks
    # left would make every refresh fail for reasons of their own.
    systemd-sysext unmerge
    rm -f /var/lib/extensions/*
    mkdir -p "$WWW$SU_PATH"
    systemd-run --unit=sysupdate-www busybox httpd -f -p "127.0.0.1:$SU_PORT" -h "$WWW"
    serve idx-a
    mkdir -p /etc/sysupdate.my-files.d
    local f
    for f in $(fetch "$URL/SHA256SUMS" | awk '{print $2}' | grep -E '^my-files.*\.conf$'); do
        fetch "$URL/$f" >"/etc/sysupdate.my-files.d/$f"
    done
    ls -l /etc/sysupdate.my-files.d
    [ -s /etc/sysupdate.my-files.d/my-files.conf ] || die "no my-files.conf in the index"
    for f in /etc/sysupdate.my-files.d/*.conf; do
        has -x Verify=yes <"$f" || die "$f does not say Verify=yes"
    done
    for f in sysext-update-my-files.service sysext-update-my-files.timer; do
        fetch "$URL/$f" >"/etc/systemd/system/$f"
    done
    systemctl daemon-reload
    [ -s /etc/systemd/import-pubring.gpg ] || die "no /etc/systemd/import-pubring.gpg"
}
check sysupdate-setup sysupdate_setup

sysupdate_lists() {
    /usr/lib/systemd/systemd-sysupdate -C my-files list | tee /tmp/list
    has -F 1.0 </tmp/list || die "systemd-sysupdate does not list version 1.0"
}
check sysupdate-list sysupdate_lists

# update_to VERSION ROOTHASH: the component's update service ends succeeded
# with VERSION installed, linked and merged (on dm-verity, signature checked).
update_to() {
    local want=$1 roothash=$2 rc=0
    systemctl start sysext-update-my-files.service || rc=$?
    journalctl -b --no-pager -o cat -u sysext-update-my-files.service | tail -40
    systemctl show -p Result -p ExecMainStatus sysext-update-my-files.service
    [ "$rc" -eq 0 ] || die "sysext-update-my-files.service failed (systemctl start exited $rc)"
    [ "$(systemctl show -P Result sysext-update-my-files.service)" = success ] || die "the service's result is not success"
    ls -l /opt/extensions/my-files "$LINK"*
    [ "$(readlink -f "$LINK")" = "/opt/extensions/my-files/my-files-$want-x86-64.raw" ] ||
        die "$LINK points at $(readlink -f "$LINK"), not version $want"
    systemd-sysext status
    cat "$MY_RELEASE" /usr/share/my-files/marker
    # my-files' release file names no version: each version's marker does.
    has -x "my-files $want" </usr/share/my-files/marker || die "the merged my-files is not version $want"
    verity_device "$roothash"
    if ls /opt/extensions/my-files | grep -v -- '-x86-64\.'; then
        die "a file for another architecture was installed"
    fi
}
check -t 240 sysupdate-1.0 update_to 1.0 "$SU_ROOTHASH_A"
next_version() { # next_version SNAPSHOT VERSION ROOTHASH
    serve "$1"
    update_to "$2" "$3"
}
check -t 240 sysupdate-1.1 next_version idx-b 1.1 "$SU_ROOTHASH_B"

forged_refused() {
    local rc=0 c
    serve idx-forged
    c=$(cursor)
    systemctl start sysext-update-my-files.service || rc=$?
    journalctl -b --no-pager -o cat -u sysext-update-my-files.service --after-cursor="$c" | tail -20 | tee /tmp/forged
    [ "$rc" -ne 0 ] || die "an index signed by another key was accepted"
    [ "$(readlink -f "$LINK")" = /opt/extensions/my-files/my-files-1.1-x86-64.raw ] || die "the link moved"
    has -x "my-files 1.1" </usr/share/my-files/marker || die "the merged my-files changed"
    has -i "signature" </tmp/forged || die "the journal does not say the signature failed"
    systemctl reset-failed sysext-update-my-files.service
}
check -t 240 sysupdate-refuses-forged forged_refused
check -t 240 sysupdate-revision next_version idx-c 1.1-r1 "$SU_ROOTHASH_C"

nothing_new() {
    local before
    before=$(ls -l --time-style=+%s /opt/extensions/my-files)
    update_to 1.1-r1 "$SU_ROOTHASH_C"
    [ "$before" = "$(ls -l --time-style=+%s /opt/extensions/my-files)" ] || die "an update without a new version changed /opt/extensions/my-files"
}
check -t 240 sysupdate-nothing-new nothing_new

timer_enabled() {
    systemctl enable --now sysext-update-my-files.timer
    systemctl is-active sysext-update-my-files.timer
    systemctl list-timers --no-pager sysext-update-my-files.timer | has sysext-update-my-files
}
check sysupdate-timer timer_enabled

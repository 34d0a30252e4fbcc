# shellcheck shell=bash
# systemd-sysupdate updating signed extensions from a served, signed index
# with Verify=yes: the last checks of both boots. Debian 13: its own 257
# (/usr/lib/systemd/systemd-sysupdate, from systemd-container). Debian 12: its
# own 252 has none, so after bookworm.sh's checks of 252 the first check here
# installs systemd 254 from bookworm-backports (debs the guest root carries in
# /var/cache/backports-systemd) and re-executes the manager.
# Two extensions, each published for x86-64 and arm64 in one index:
#   my-files      a signed disk image (--ddi, as the release workflow builds)
#   my-sidecars   the image with .verity, .roothash and .p7s sidecars, linked
#                 as /etc/extensions/my-sidecars.{verity,roothash,roothash.p7s}
# What the run puts in place (tests/e2e/lib/sysupdate_files.sh):
#   /var/lib/boot-checks/sysupdate/idx-a, idx-b, idx-c   the index (`sysext-build
#       index`) after each publication: 1.0, then 1.1, then 1.1-r1 (a revision:
#       the same upstream version rebuilt); SHA256SUMS signed with a throwaway
#       OpenPGP key; idx-forged: idx-c's files with another key's signature
#   /var/lib/boot-checks/sysupdate/roothash-NAME-SNAPSHOT  the x86-64 root hashes
#   /etc/systemd/import-pubring.gpg       that key's public key, where
#                                         systemd-pull looks for it
#   /etc/verity.d/sysupdate-test.crt      the certificate of the images' signatures
#   /var/lib/boot-checks/vars             SU_PORT, SU_PATH (the index's URL path)
# The host installs the transfers and the update units as a user would: from
# the index, over HTTP (busybox httpd on the guest's loopback).
source /var/lib/boot-checks/lib.sh
source /var/lib/boot-checks/vars
SU=/var/lib/boot-checks/sysupdate
WWW=/srv/sysupdate
URL=http://127.0.0.1:$SU_PORT$SU_PATH
NAMES="my-files my-sidecars"
# Merges signed images only: systemd-sysext checks each signature against
# /etc/verity.d (systemd 256 and later; 254 hands it to the kernel's keyring).
SIGNED_ONLY=--image-policy=root=signed+absent:usr=signed+absent

serve() { # serve SNAPSHOT: the index as the publisher's next upload leaves it
    mkdir -p "$WWW$SU_PATH"
    rm -f "$WWW$SU_PATH"/*
    cp "$SU/$1"/* "$WWW$SU_PATH/"
    fetch "$URL/SHA256SUMS" >/dev/null
}

systemd_version() {
    systemctl --version | awk 'NR == 1 {print $2}'
}

# Debian 12: systemd 254 from bookworm-backports, for its systemd-sysupdate.
backports_systemd() {
    systemd_version
    ls /var/cache/backports-systemd
    # /usr is read-only while the extensions bookworm.sh checked are merged.
    systemd-sysext unmerge
    # The guest boots the harness's initrd: no new one (minutes under TCG).
    sed -i 's/^update_initramfs=.*/update_initramfs=no/' /etc/initramfs-tools/update-initramfs.conf
    DEBIAN_FRONTEND=noninteractive dpkg -i --auto-deconfigure /var/cache/backports-systemd/*.deb
    systemctl daemon-reexec
    settle
    [ "$(systemd_version)" -ge 254 ] || die "the manager is systemd $(systemd_version) after the upgrade"
    /usr/lib/systemd/systemd-sysupdate --version
}
if [ -d /var/cache/backports-systemd ]; then
    check -t 600 sysupdate-systemd-from-backports backports_systemd
fi

sysupdate_setup() {
    /usr/lib/systemd/systemd-sysupdate --version
    command -v gpg
    # Only these extensions from here on: what the earlier checks left would
    # make every refresh fail, or pass, for reasons of their own.
    systemd-sysext unmerge
    rm -f /var/lib/extensions/* /etc/extensions/*
    mkdir -p "$WWW$SU_PATH"
    systemd-run --unit=sysupdate-www busybox httpd -f -p "127.0.0.1:$SU_PORT" -h "$WWW"
    serve idx-a
    local f name
    for name in $NAMES; do
        mkdir -p "/etc/sysupdate.$name.d"
        for f in $(fetch "$URL/SHA256SUMS" | awk '{print $2}' | grep -E "^$name(-[a-z0-9-]+)?\.conf$"); do
            fetch "$URL/$f" >"/etc/sysupdate.$name.d/$f"
        done
        ls -l "/etc/sysupdate.$name.d"
        [ -s "/etc/sysupdate.$name.d/$name.conf" ] || die "no $name.conf in the index"
        for f in "/etc/sysupdate.$name.d"/*.conf; do
            has -x Verify=yes <"$f" || die "$f does not say Verify=yes"
        done
        for f in "sysext-update-$name.service" "sysext-update-$name.timer"; do
            fetch "$URL/$f" >"/etc/systemd/system/$f"
        done
    done
    # The sidecar extension: one transfer per file (.raw, .verity, .roothash, .p7s).
    [ "$(ls /etc/sysupdate.my-sidecars.d | wc -l)" -eq 4 ] || die "my-sidecars has not 4 transfers"
    systemctl daemon-reload
    [ -s /etc/systemd/import-pubring.gpg ] || die "no /etc/systemd/import-pubring.gpg"
}
check sysupdate-setup sysupdate_setup

sysupdate_lists() {
    local name
    for name in $NAMES; do
        # systemd-sysupdate 254 needs the target directory even to list (the
        # update service makes it).
        mkdir -p "/opt/extensions/$name"
        /usr/lib/systemd/systemd-sysupdate -C "$name" list | tee /tmp/list
        has -F 1.0 </tmp/list || die "systemd-sysupdate does not list version 1.0 of $name"
    done
}
check sysupdate-list sysupdate_lists

# update NAME VERSION SNAPSHOT: NAME's update service ends succeeded with
# VERSION installed, linked and merged on dm-verity; the files are the index's.
update() {
    local name=$1 want=$2 snap=$3 rc=0 link=/etc/extensions/$1.raw f
    systemctl start "sysext-update-$name.service" || rc=$?
    journalctl -b --no-pager -o cat -u "sysext-update-$name.service" | tail -40
    systemctl show -p Result -p ExecMainStatus "sysext-update-$name.service"
    [ "$rc" -eq 0 ] || die "sysext-update-$name.service failed (systemctl start exited $rc)"
    [ "$(systemctl show -P Result "sysext-update-$name.service")" = success ] || die "the service's result is not success"
    ls -l "/opt/extensions/$name" "/etc/extensions/$name".*
    [ "$(readlink -f "$link")" = "/opt/extensions/$name/$name-$want-x86-64.raw" ] ||
        die "$link points at $(readlink -f "$link"), not version $want"
    # Each installed file has the bytes the signed SHA256SUMS lists under its name.
    for f in "/etc/extensions/$name".*; do
        f=$(readlink -f "$f")
        has -x "$(sha256sum "$f" | cut -d' ' -f1)  $(basename "$f")" <"$SU/$snap/SHA256SUMS" ||
            die "$f does not have the bytes the index lists for it"
    done
    if ls "/opt/extensions/$name" | grep -v -- '-x86-64\.'; then
        die "a file for another architecture was installed"
    fi
    systemd-sysext status
    cat "/usr/lib/extension-release.d/extension-release.$name" "/usr/share/$name/marker"
    # The release file names no version: each version's marker does.
    has -x "$name $want" <"/usr/share/$name/marker" || die "the merged $name is not version $want"
    verity_device "$(cat "$SU/roothash-$name-$snap")"
}
# update_all VERSION SNAPSHOT: both extensions, then both merged with their
# signatures checked where the host's systemd checks them itself.
update_all() {
    local name
    for name in $NAMES; do
        update "$name" "$1" "$2"
    done
    if [ "$(systemd_version)" -ge 256 ]; then
        systemd-sysext refresh "$SIGNED_ONLY"
        for name in $NAMES; do
            has -x "$name $1" <"/usr/share/$name/marker" || die "$name is not merged under $SIGNED_ONLY"
        done
    fi
}
check -t 300 sysupdate-1.0 update_all 1.0 idx-a
next_version() { # next_version SNAPSHOT VERSION
    serve "$1"
    update_all "$2" "$1"
}
check -t 300 sysupdate-1.1 next_version idx-b 1.1

forged_refused() {
    local rc=0 c
    serve idx-forged
    c=$(cursor)
    systemctl start sysext-update-my-sidecars.service || rc=$?
    journalctl -b --no-pager -o cat -u sysext-update-my-sidecars.service --after-cursor="$c" | tail -20 | tee /tmp/forged
    [ "$rc" -ne 0 ] || die "an index signed by another key was accepted"
    [ "$(readlink -f /etc/extensions/my-sidecars.raw)" = /opt/extensions/my-sidecars/my-sidecars-1.1-x86-64.raw ] || die "the link moved"
    has -x "my-sidecars 1.1" </usr/share/my-sidecars/marker || die "the merged my-sidecars changed"
    has -i "signature" </tmp/forged || die "the journal does not say the signature failed"
    systemctl reset-failed sysext-update-my-sidecars.service
}
check -t 240 sysupdate-refuses-forged forged_refused
check -t 300 sysupdate-revision next_version idx-c 1.1-r1

# A signature that does not match its root hash (the previous version's): the
# merge under the signed-only policy refuses the image, so the merges above
# relied on the signatures. (A refresh that fails keeps the previous merge:
# unmerge first.)
wrong_signature_refused() {
    [ "$(systemd_version)" -ge 256 ] || { echo "systemd $(systemd_version) leaves the signature to the kernel: not checked here"; return 0; }
    local p7s
    p7s=$(readlink -f /etc/extensions/my-sidecars.roothash.p7s)
    cp "$p7s" /tmp/good.p7s
    cp /opt/extensions/my-sidecars/my-sidecars-1.1-x86-64.p7s "$p7s"
    systemd-sysext unmerge
    systemd-sysext merge "$SIGNED_ONLY" || true
    systemd-sysext status
    cp /tmp/good.p7s "$p7s"
    [ ! -e /usr/share/my-sidecars/marker ] || die "my-sidecars merged with the signature of another root hash"
    systemd-sysext unmerge
    systemd-sysext merge "$SIGNED_ONLY"
    has -x "my-sidecars 1.1-r1" </usr/share/my-sidecars/marker || die "my-sidecars not merged again"
}
check -t 240 sysupdate-wrong-signature-refused wrong_signature_refused

nothing_new() {
    local before
    before=$(ls -l --time-style=+%s /opt/extensions/*)
    update_all 1.1-r1 idx-c
    [ "$before" = "$(ls -l --time-style=+%s /opt/extensions/*)" ] || die "an update without a new version changed /opt/extensions"
}
check -t 300 sysupdate-nothing-new nothing_new

timer_enabled() {
    local name
    for name in $NAMES; do
        systemctl enable --now "sysext-update-$name.timer"
        systemctl is-active "sysext-update-$name.timer"
        systemctl list-timers --no-pager "sysext-update-$name.timer" | has "sysext-update-$name"
    done
}
check sysupdate-timer timer_enabled

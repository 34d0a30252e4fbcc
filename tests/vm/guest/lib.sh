# shellcheck shell=bash
# Helpers for the guest's check scripts (tests/vm/checks/*.sh): the harness
# installs this as /var/lib/boot-checks/lib.sh; a checks script sources it. Each
# check runs in its own bash with `set -euo pipefail -x` (guest/runner), so a
# failing command fails the check; `die` says why in words.

die() {
    echo "FAILED: $*"
    exit 1
}

# has GREP-ARGS...: stdin has a matching line. Unlike `grep -q` it reads all of
# its input, so under pipefail the writer never dies of SIGPIPE.
has() {
    grep "$@" >/dev/null
}

# guest_addr: the guest's own IPv4 address on eth0 (guest-net.service sets it).
guest_addr() {
    ip -4 -o addr show dev eth0 | awk '{split($4, a, "/"); print a[1]; exit}'
}

# settle [SECONDS]: wait until the service manager has no job queued but the
# checks' own, so what a merge, refresh or reload started has run.
settle() {
    local - limit=${1:-120} i=0 jobs
    set +x
    while :; do
        jobs=$(systemctl list-jobs --no-legend --plain 2>/dev/null | awk '$2 != "boot-checks.service"')
        [ -n "$jobs" ] || return 0
        i=$((i + 1))
        [ "$i" -lt "$limit" ] || die "jobs still queued after $limit s: $jobs"
        sleep 1
    done
}

# wait_active UNIT [SECONDS]: the unit must become active.
wait_active() {
    local - unit=$1 limit=${2:-90} i=0
    set +x
    while [ "$(systemctl is-active "$unit" 2>/dev/null)" != active ]; do
        i=$((i + 1))
        if [ "$i" -ge "$limit" ]; then
            systemctl status --no-pager -l "$unit" 2>&1 | head -30
            journalctl -b --no-pager -u "$unit" 2>&1 | tail -30
            die "$unit is $(systemctl is-active "$unit" 2>/dev/null) after $limit s, not active"
        fi
        sleep 1
    done
    echo "$unit is active"
}

# fetch URL [SECONDS]: the body of URL, retried until it answers.
fetch() {
    local - url=$1 limit=${2:-30} i=0 body
    set +x
    # timeout, not wget -T: Debian 12's busybox-static (1.35) wget segfaults on -T.
    until body=$(timeout 10 busybox wget -q -O - "$url" 2>&1); do
        i=$((i + 1))
        [ "$i" -lt "$limit" ] || die "no answer from $url after $limit tries: $body"
        sleep 1
    done
    echo "$body"
}

# cursor: a journal position; since CURSOR: PID 1's messages after it.
cursor() {
    journalctl --sync 2>/dev/null || true
    journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p'
}
since() {
    journalctl --sync 2>/dev/null || true
    journalctl -q --no-pager -o cat _PID=1 --after-cursor="$1"
}

# The rootless user's login session (PAM, pam_systemd: like an ssh login).
as_tester() {
    runuser -l tester -c "$*"
}

# merged_into HIERARCHY: the extensions `systemd-sysext status` shows merged
# into HIERARCHY (/usr, /opt), one a line ("none" when there are none). The
# table continues a hierarchy's list on lines that start with blanks.
merged_into() {
    systemd-sysext status 2>/dev/null | awk -v h="$1" '
        /^[^[:space:]]/ { on = ($1 == h); if (on) print $2; next }
        on && NF { print $1 }'
}

# The podman extension's release file, and whether it is merged.
RELEASE=/usr/lib/extension-release.d/extension-release.podman
podman_merged() {
    [ -e "$RELEASE" ]
}

# verity_device ROOTHASH: a dm-verity device for this root hash is set up:
# named after it, or (systemd 254, a disk image merged again while its device
# was in use) after the loop partition, with the root hash in its table.
verity_device() {
    dmsetup ls --target verity
    dmsetup ls --target verity | has "^$1-verity" ||
        { dmsetup table --target verity; dmsetup table --target verity | has -F " $1 "; } ||
        die "no dm-verity device for root hash $1"
}

# Import the static busybox root (/srv/bbroot) as a local image.
import_busybox() {
    tar -C /srv/bbroot -cf - . | podman import --change CMD=/bin/sh - localhost/busybox:boot
}

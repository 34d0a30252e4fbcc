#!/usr/bin/env bash
# Builds (once) and caches the root file system of a booted-host test guest,
# then prints the cache entry's directory on stdout:
#
#   ENTRY/root/      the guest's root: debootstrap --variant=minbase SUITE plus
#                    what a booted host has (systemd-sysv, udev, dbus,
#                    libpam-systemd, a kernel) and the test helpers, gpg
#                    among them (systemd-sysupdate's signature check runs it);
#                    bookworm: also, downloaded but not installed, systemd 254
#                    from bookworm-backports in /var/cache/backports-systemd/
#                    (Debian 12's own 252 has no systemd-sysupdate; the checks
#                    install 254 after those of 252)
#   ENTRY/vmlinux    the uncompressed kernel, extracted from root/boot/vmlinuz-*
#   ENTRY/initrd     root/boot/initrd.img-*
#   ENTRY/packages   the package list the entry was made from
#
# Usage: tests/vm/guest-root.sh trixie|bookworm
#
# The entry lives in ${BOOT_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sysext-build/vm}
# under SUITE-HASH, HASH covering this script and the package list, so a changed
# list makes a new root and an unchanged one is reused by every later run (CI
# runs on the same machine included). It is built under a temporary name and
# renamed when complete; a lock keeps two runs from building it at once, and
# older entries of the same suite are removed once a new one is in place.
#
# The mirror is the host's apt source (or $DEBIAN_MIRROR); nothing else is
# contacted. Needs root, debootstrap, python3 and zstd.
#
# Deliberately absent from every guest: podman, crun, runc, conmon, passt,
# uidmap, nftables, iptables (and what the podman extension should bring along:
# dbus-user-session, ca-certificates). The checks prove the extension brings
# them, so the root must not.
set -euo pipefail

me=tests/vm/guest-root.sh
die() {
    echo "$me: $*" >&2
    exit 1
}

suite=${1:-}
# What a booted host has, and the helpers the checks use.
common=(systemd-sysv udev dbus libpam-systemd linux-image-amd64 initramfs-tools kmod iproute2
        cryptsetup-bin dmsetup systemd-container busybox-static)
# gpg: systemd-pull runs it for systemd-sysupdate's Verify=yes (SHA256SUMS.gpg).
packages=("${common[@]}" gpg)
case $suite in
trixie) backports=() ;;
# systemd 254 with systemd-sysupdate (package systemd) and systemd-pull
# (systemd-container), and what they need of that version.
bookworm) backports=(systemd systemd-container systemd-sysv libpam-systemd udev) ;;
*) die "usage: guest-root.sh trixie|bookworm (got '${suite}')" ;;
esac
absent=(podman crun runc conmon passt uidmap nftables iptables dbus-user-session ca-certificates)

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap)"
for t in debootstrap python3 zstd flock sha256sum; do
    command -v "$t" >/dev/null || die "missing tool $t"
done

cache=${BOOT_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sysext-build/vm}
key=$( { cat "$0"; echo "$suite"; printf '%s\n' "${packages[@]}" "${backports[@]}"; } | sha256sum | cut -c1-16)
entry=$cache/$suite-$key
if [ -f "$entry/complete" ]; then
    echo "$entry"
    exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.$suite.lock"
flock 9
if [ -f "$entry/complete" ]; then # built by another run while we waited
    echo "$entry"
    exit 0
fi

mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $1; exit}')}
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; set DEBIAN_MIRROR"

tmp=$cache/.$suite-$key.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
log=$cache/$suite-$key.debootstrap.log
echo "$me: debootstrap --variant=minbase $suite from $mirror (once; log $log)" >&2
include=$(IFS=,; echo "${packages[*]}")
if ! debootstrap --variant=minbase --include="$include" "$suite" "$tmp/root" "$mirror" >"$log" 2>&1; then
    tail -30 "$log" >&2
    die "debootstrap $suite failed (log $log)"
fi

root=$tmp/root
for p in "${absent[@]}"; do
    if chroot "$root" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        die "$p got into the $suite root (it must come from the extension under test)"
    fi
done

# The backports' packages, for the guest to install with dpkg (it reaches no
# mirror): every one apt would install for them, from the same mirror.
if [ "${#backports[@]}" -gt 0 ]; then
    rm -f "$root"/var/cache/apt/archives/*.deb # debootstrap's
    echo "deb $mirror $suite-backports main" >"$root/etc/apt/sources.list.d/backports.list"
    { chroot "$root" apt-get -q update &&
        chroot "$root" apt-get install -y -q --download-only -t "$suite-backports" "${backports[@]}"; } >>"$log" 2>&1 ||
        { tail -30 "$log" >&2; die "cannot download ${backports[*]} from $suite-backports (log $log)"; }
    mkdir -p "$root/var/cache/backports-systemd"
    mv "$root"/var/cache/apt/archives/*.deb "$root/var/cache/backports-systemd/"
    rm "$root/etc/apt/sources.list.d/backports.list"
    ls "$root/var/cache/backports-systemd" | grep -q '^systemd_' ||
        die "no systemd from $suite-backports: $(ls "$root/var/cache/backports-systemd")"
fi

# A fixed machine id: an empty one makes the guest's first boot ask questions
# on the console (systemd-firstboot).
[ -s "$root/etc/machine-id" ] && [ "$(cat "$root/etc/machine-id")" != uninitialized ] ||
    echo 5eb0b7e1ab5e4d3c8c5c6e6c0b0e5e57 >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"
# apt's caches are of no use inside the guest; keep the entry small.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages

# The kernel to boot directly, and its initrd.
vmlinuz=$(ls "$root"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
initrd=$(ls "$root"/boot/initrd.img-* 2>/dev/null | sort -V | tail -1)
[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in the $suite root"
[ -n "$initrd" ] || die "no /boot/initrd.img-* in the $suite root (update-initramfs did not run?)"
python3 "$(dirname "$0")/extract-vmlinux.py" "$vmlinuz" "$tmp/vmlinux" || die "cannot extract vmlinux from $vmlinuz"
cp "$initrd" "$tmp/initrd"
printf '%s\n' "${packages[@]}" >"$tmp/packages"
chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' >"$tmp/installed"
touch "$tmp/complete"

rm -rf "$entry"
mv "$tmp" "$entry"
mv "$log" "$entry/debootstrap.log"
# Older entries of this suite (another package list or script) are dead weight.
for old in "$cache/$suite"-*; do
    [ "$old" = "$entry" ] || [ ! -d "$old" ] || rm -rf "$old"
done
echo "$me: cached $suite guest root in $entry" >&2
echo "$entry"

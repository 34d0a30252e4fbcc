#!/usr/bin/env bash
# Boots a Debian guest with QEMU and runs checks inside it: the booted-host
# test's harness.
#
# Usage: tests/vm/boot.sh --suite trixie|bookworm --name NAME --checks FILE
#                         [--files DIR]... [--timeout SECONDS] [--report-dir DIR]
#                         [--work DIR]
#
#   --checks FILE  a bash script the guest sources after boot (see guest/runner):
#                  functions, then `check NAME COMMAND...` lines, run in order;
#                  several --checks run one after the other in the same boot
#   --files DIR    copied over the guest's root before it boots (images under
#                  test, certificates, unit files, enablement links...)
#   --timeout S    limit for the whole boot (default $BOOT_TIMEOUT or 900)
#   --report-dir   where boot-host-NAME.txt goes (default $BOOT_REPORT_DIR,
#                  else build/reports of the source tree)
#   --work DIR     keep the disks and results there (default: a temporary
#                  directory, removed at the end)
#
# The guest root comes from guest-root.sh (debootstrapped once, cached). Each
# run stacks an overlay (the run's files, users, units) on the cached root,
# makes an ext4 disk of it with mkfs.ext4 -d, extracts nothing more (the cache
# holds the uncompressed vmlinux), and boots it under QEMU's TCG with the
# network restricted to the guest. The checks unit writes its results to a
# second disk, read back here with debugfs (no mounting).
#
# Prints each check as `PASS NAME` or `FAIL NAME` (a failed check's output
# below it, indented), writes the report REPORT-DIR/boot-host-NAME.txt with
# every check's output, and keeps the guest's journal and serial console of a
# failed run next to it (boot-host-NAME.journal.txt, .console.txt).
# Exit status: 0 when the guest ran every check and all passed, 1 otherwise,
# 2 for a usage or set-up error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
me=tests/vm/boot.sh
die() {
    echo "$me: $*" >&2
    exit 2
}

suite='' name='' timeout_s=${BOOT_TIMEOUT:-900} report_dir=${BOOT_REPORT_DIR:-$top/build/reports} work=''
files=()
checks=()
while [ $# -gt 0 ]; do
    case $1 in
    --suite) suite=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --checks) checks+=("$2"); shift 2 ;;
    --files) files+=("$2"); shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --report-dir) report_dir=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) die "unknown argument '$1' (see the header of $me)" ;;
    esac
done
[ -n "$suite" ] && [ -n "$name" ] && [ "${#checks[@]}" -gt 0 ] || die "--suite, --name and --checks are required"
for c in "${checks[@]}"; do
    [ -f "$c" ] || die "--checks $c: no such file"
done
for d in "${files[@]}"; do
    [ -d "$d" ] || die "--files $d: not a directory"
done
[ "$(id -u)" -eq 0 ] || die "needs root (overlay mount, debootstrap)"
for t in qemu-system-x86_64 mkfs.ext4 debugfs unshare timeout python3; do
    command -v "$t" >/dev/null || die "missing tool $t (Debian: qemu-system-x86, e2fsprogs, util-linux, coreutils, python3)"
done

entry=$("$here/guest-root.sh" "$suite") || die "no $suite guest root (see above)"

own_work=''
if [ -z "$work" ]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/boot-host.XXXXXX")
    own_work=1
fi
cleanup() {
    [ -z "$own_work" ] || rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work" "$report_dir"
rm -rf "$work/upper" "$work/ovl" "$work/merged" "$work/r" "$work/journal"
mkdir -p "$work/upper" "$work/ovl" "$work/merged"

# --- the run's root: the cached root, an overlay with this run's files, one ext4 disk
stage=$work/stage
rm -rf "$stage"
mkdir -p "$stage/var/lib/boot-checks/checks.d" "$stage/etc/systemd/system/multi-user.target.wants" \
         "$stage/etc/systemd/system/network-online.target.wants" "$stage/var/lib/systemd/linger"
install -m 0755 "$here/guest/runner" "$stage/var/lib/boot-checks/runner"
install -m 0644 "$here/guest/lib.sh" "$stage/var/lib/boot-checks/lib.sh"
n=10
for c in "${checks[@]}"; do
    install -m 0644 "$c" "$stage/var/lib/boot-checks/checks.d/$n-$(basename "$c")"
    n=$((n + 1))
done
for u in boot-checks.service guest-net.service; do
    install -m 0644 "$here/guest/$u" "$stage/etc/systemd/system/$u"
    ln -s "../$u" "$stage/etc/systemd/system/multi-user.target.wants/$u"
done
ln -s ../guest-net.service "$stage/etc/systemd/system/network-online.target.wants/guest-net.service"
# Timers that would run maintenance (apt, fstrim) in the middle of a short boot.
for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer e2scrub_all.timer; do
    ln -s /dev/null "$stage/etc/systemd/system/$u"
done
echo boothost >"$stage/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tboothost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$stage/etc/hosts"
# The rootless user: a lingering user (its systemd --user runs from boot) with
# /etc/subuid and /etc/subgid ranges, the normal set-up.
touch "$stage/var/lib/systemd/linger/tester"

size_mb=$(( $(du -smx "$entry/root" | cut -f1) + $(du -smc "${files[@]}" "$stage" 2>/dev/null | tail -1 | cut -f1) + 2560 ))
root_img=$work/root.img
rm -f "$root_img"
# Everything below runs in a private mount namespace: the overlay vanishes with it.
if ! unshare -m --propagation private bash -euo pipefail -c '
    lower=$1 upper=$2 ovl=$3 merged=$4 stage=$5 img=$6 size=$7
    shift 7
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$ovl" "$merged"
    cp -a "$stage/." "$merged/"
    for d in "$@"; do cp -a "$d/." "$merged/"; done
    chroot "$merged" useradd --create-home --uid 1000 --user-group --shell /bin/bash tester
    chroot "$merged" passwd --lock tester >/dev/null
    # Ranges as useradd writes them on a normal host (only for SUB_UID_COUNT users).
    echo "tester:100000:65536" >"$merged/etc/subuid"
    echo "tester:100000:65536" >"$merged/etc/subgid"
    mkfs.ext4 -q -F -L bootroot -d "$merged" "$img" "${size}M"
' boot-root "$entry/root" "$work/upper" "$work/ovl" "$work/merged" "$stage" "$root_img" "$size_mb" "${files[@]}" \
    >"$work/mkfs.log" 2>&1; then
    cat "$work/mkfs.log" >&2
    die "cannot make the guest's root disk $root_img"
fi
results_img=$work/results.img
rm -f "$results_img"
truncate -s 256M "$results_img"
mkfs.ext4 -q -F -L bootresults "$results_img" || die "cannot make the results disk $results_img"

# --- boot
console=$work/console.log
# mitigations=off: an isolated test guest; under TCG, page-table isolation makes every syscall dear.
cmdline="root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=1 loglevel=4 systemd.show_status=true mitigations=off"
qemu=(qemu-system-x86_64
    -accel tcg,thread=multi -cpu qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt,+cx16
    -m 2G -smp 2 -nographic -no-reboot
    -kernel "$entry/vmlinux" -initrd "$entry/initrd" -append "$cmdline"
    -drive "file=$root_img,format=raw,if=virtio,cache=unsafe"
    -drive "file=$results_img,format=raw,if=virtio,cache=unsafe"
    # -nic user,restrict=on with virtio, without the NIC's boot ROM (iPXE waits for a key)
    -netdev user,id=net0,restrict=on -device virtio-net-pci,netdev=net0,romfile=)
echo "$me: booting $name ($suite guest, limit ${timeout_s} s)" >&2
start=$(date +%s)
qrc=0
timeout --kill-after=10 "$timeout_s" "${qemu[@]}" </dev/null >"$console" 2>&1 || qrc=$?
elapsed=$(($(date +%s) - start))

# --- results
debugfs -R "rdump /r $work" "$results_img" >"$work/debugfs.log" 2>&1 || true
res=$work/r
report=$report_dir/boot-host-$name.txt
failed=0
{
    echo "boot-host $name: $suite guest, $(grep -E '^(systemd|linux-image-[0-9]\S*) ' "$entry/installed" | tr '\n' ' ')"
    echo "boot with checks: ${elapsed} s (QEMU TCG, exit status $qrc)"
    [ ! -f "$res/times.txt" ] || sed 's/^/  /' "$res/times.txt"
    echo
} >"$report.tmp"
if [ -f "$res/results" ]; then
    while read -r verdict check secs; do
        [ -n "$verdict" ] || continue
        line="$verdict $check"
        echo "$line"
        [ "$verdict" = PASS ] || {
            failed=1
            sed 's/^/    /' "$res/out/$check" 2>/dev/null | tail -60
        }
        {
            echo "$line (${secs} s)"
            sed 's/^/    /' "$res/out/$check" 2>/dev/null || true
        } >>"$report.tmp"
    done <"$res/results"
fi
if [ ! -f "$res/done" ]; then
    failed=1
    why="the guest did not finish its checks"
    [ "$qrc" -ne 124 ] && [ "$qrc" -ne 137 ] || why="$why: killed after ${timeout_s} s"
    echo "FAIL boot-completed"
    echo "    $why; end of the serial console:"
    tail -40 "$console" | tr -d '\r' | sed 's/^/    /'
    {
        echo "FAIL boot-completed"
        echo "    $why; end of the serial console:"
        tail -80 "$console" | tr -d '\r' | sed 's/^/    /'
    } >>"$report.tmp"
fi
if [ "$failed" -ne 0 ]; then
    tr -d '\r' <"$console" >"$report_dir/boot-host-$name.console.txt"
    # The guest's persistent journal (kernel messages and shutdown included), read
    # off the root disk.
    mkdir -p "$work/journal"
    debugfs -R "rdump /var/log/journal $work/journal" "$root_img" >/dev/null 2>&1 || true
    journalctl --directory="$work/journal/journal" --no-pager -o short-monotonic \
        >"$report_dir/boot-host-$name.journal.txt" 2>&1 || true
    echo "(journal and console of the failed run: $report_dir/boot-host-$name.{journal,console}.txt)" >>"$report.tmp"
else
    rm -f "$report_dir/boot-host-$name".{journal,console}.txt
fi
mv "$report.tmp" "$report"
echo "$me: $name: boot with checks took ${elapsed} s; report $report" >&2
exit "$failed"

# shellcheck shell=bash
# Checks of the podman extension on a booted Debian 13 host (tests/vm/boot.sh
# runs them in the guest, in this order, after trixie-signed-boot.sh). What the
# run puts in place (tests/e2e/boot_host.sh):
#   /var/lib/extensions/podman.raw         the image under test (version $V1_ID) as
#                                          a signed disk image, as releases publish it;
#                                          systemd-sysext.service enabled
#   /var/lib/boot-checks/images/podman-v1.raw   the same
#   /var/lib/boot-checks/images/podman-v2.raw   the next version, a bare unsigned image
#   /var/lib/boot-checks/vars              V1_ID, V2_ID (SYSEXT_VERSION_ID), and
#                                          PODMAN_V, CRUN_V, RUNC_V, CONMON_V
#                                          (upstream versions from the lock file)
#   /etc/containers/systemd/q-boot.container   a quadlet present at boot
#   /srv/bbroot, /srv/q-*                  static busybox roots (Debian's busybox-static)
#   canary.service                         an enabled unit the admin will stop
#   host-www.service                       busybox httpd on the host, port 8099
source /var/lib/boot-checks/lib.sh
source /var/lib/boot-checks/vars
IMAGES=/var/lib/boot-checks/images
STACK_PACKAGES="podman crun runc conmon passt uidmap nftables iptables netavark aardvark-dns golang-github-containers-common"
STACK_COMMANDS="podman crun runc conmon pasta passt nft newuidmap newgidmap iptables"


# --- the host and the merge at boot --------------------------------------------
base_lacks_stack() {
    local p bad=''
    for p in $STACK_PACKAGES; do
        if dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | has "install ok installed"; then
            bad="$bad $p"
        fi
    done
    [ -z "$bad" ] || die "the host root has$bad installed: the extension under test must bring them"
    echo "none of $STACK_PACKAGES is installed in the host's root"
}
check base-lacks-podman-stack base_lacks_stack

merged_at_boot() {
    [ "$(systemctl is-enabled systemd-sysext.service)" = enabled ] || die "systemd-sysext.service is not enabled"
    [ "$(systemctl is-active systemd-sysext.service)" = active ] || die "systemd-sysext.service is not active"
    journalctl -b --no-pager -o cat -u systemd-sysext.service
    podman_merged || die "no $RELEASE: the image was not merged at boot"
    cat "$RELEASE"
    grep -qx "SYSEXT_VERSION_ID=$V1_ID" "$RELEASE" || die "merged release is not version $V1_ID"
}
check merged-at-boot merged_at_boot

sysext_status() {
    systemd-sysext status
    merged_into /usr | has -x podman || die "systemd-sysext status does not show podman merged into /usr"
    systemd-sysext list
    systemd-sysext list | has '^podman[[:space:]]' || die "systemd-sysext list does not list podman"
}
check sysext-status sysext_status

# The components run from the merged /usr; versions from the lock file.
runs() { # runs EXPECTED-VERSION-OR-EMPTY COMMAND...
    local want=$1 out
    shift
    command -v "$1" >/dev/null || [ -x "$1" ] || die "$1: not found in the merged /usr"
    # pasta writes --version through stdio and leaves with _exit(): give it a terminal.
    out=$(script -qec "$*" /dev/null </dev/null | tr -d '\r')
    echo "$out"
    [ -n "$out" ] || die "$* printed nothing"
    [ -z "$want" ] || echo "$out" | has -F "$want" || die "$* does not report version $want"
}
check runs-podman runs "$PODMAN_V" podman --version
check runs-crun runs "$CRUN_V" crun --version
check runs-runc runs "$RUNC_V" runc --version
check runs-conmon runs "$CONMON_V" conmon --version
check runs-pasta runs "" pasta --version
check runs-netavark runs "" /usr/lib/podman/netavark --version
check runs-aardvark-dns runs "" /usr/lib/podman/aardvark-dns --version

# --- the prepare service at boot -------------------------------------------------
prepare_once_per_boot() {
    local starts units
    starts=$(journalctl -b --no-pager -o cat _PID=1 | grep -E '^Starting podman-prepare[^ ]*\.service' || true)
    echo "${starts:-(no start of a podman-prepare unit in this boot)}"
    [ "$(printf '%s' "$starts" | grep -c .)" -eq 1 ] || die "expected podman-prepare to start exactly once in this boot"
    units=$(systemctl list-units --all --plain --no-legend 'podman-prepare*' | awk '{print $1}')
    echo "prepare units: $units"
    for u in $units; do
        systemctl status --no-pager "$u" 2>&1 | head -15 || true
        [ "$(systemctl is-active "$u")" = active ] || die "$u is not active"
    done
    [ -n "$units" ] || die "no podman-prepare unit is loaded"
    [ -f /etc/containers/policy.json ] || die "the default /etc/containers/policy.json was not installed"
}
check prepare-once-per-boot prepare_once_per_boot

# The host has no ca-certificates; podman (Go) reads its TLS roots from
# /etc/ssl/certs (docker.io is the search registry): the extension must provide them.
tls_roots() {
    local n
    ls -l /etc/ssl/certs/ 2>&1 | head -5 || true
    [ -s /etc/ssl/certs/ca-certificates.crt ] || die "no /etc/ssl/certs/ca-certificates.crt: podman has no TLS roots"
    n=$(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt)
    echo "$n certificates in /etc/ssl/certs/ca-certificates.crt"
    [ "$n" -gt 50 ] || die "only $n certificates in the bundle"
}
check tls-roots tls_roots

boot_no_target_restart() {
    local log stops reached reloads
    log=$(journalctl -b --no-pager -o cat _PID=1)
    stops=$(echo "$log" | grep -E '^(Stopping [^ ]+\.target|Stopped target) ' || true)
    reached=$(echo "$log" | grep -c '^Reached target multi-user.target' || true)
    reloads=$(echo "$log" | grep -E '^Reload(ing)? requested from client' || true)
    echo "multi-user.target reached $reached time(s)"
    echo "manager reloads in this boot: ${reloads:-none}"
    echo "targets stopped in this boot: ${stops:-none}"
    [ -z "$stops" ] || die "targets were stopped during boot"
    [ "$reached" -eq 1 ] || die "multi-user.target was reached $reached times (restarted)"
    echo "$log" | grep -E '^(Stopping|Stopped) ' || echo "no unit was stopped during boot"
}
check boot-targets-not-restarted boot_no_target_restart

# --- quadlet present at boot -------------------------------------------------------
quadlet_at_boot() {
    wait_active q-boot.service 120
    podman ps --format '{{.Names}} {{.Status}}'
    podman ps --format '{{.Names}}' | has -x systemd-q-boot || die "the q-boot container is not running"
}
check quadlet-at-boot quadlet_at_boot

# --- podman as root ------------------------------------------------------------------
check root-import import_busybox

root_run_crun() {
    local out
    out=$(podman run --rm --network none --runtime crun localhost/busybox:boot /bin/echo hello-crun)
    echo "$out"
    [ "$out" = hello-crun ] || die "unexpected output from the container"
}
check root-run-crun root_run_crun

root_run_runc() {
    local out
    out=$(podman run --rm --network none --runtime runc localhost/busybox:boot /bin/echo hello-runc)
    echo "$out"
    [ "$out" = hello-runc ] || die "unexpected output from the container"
}
check root-run-runc root_run_runc

root_bridge() {
    local out
    out=$(podman run --rm localhost/busybox:boot /bin/sh -c 'ip -4 addr show eth0; ip route; wget -q -T 10 -O - http://10.88.0.1:8099/index.html')
    echo "$out"
    echo "$out" | has 'inet 10\.88\.' || die "the container has no address on the default bridge (10.88.0.0/16)"
    echo "$out" | has 'boot-host-www host' || die "the container did not reach the host through the bridge"
}
check root-bridge-network root_bridge

root_publish() {
    podman run -d --name web -p 8080:80 localhost/busybox:boot /bin/httpd -f -p 80 -h /www
    fetch http://127.0.0.1:8080/index.html | tee /dev/stderr | has 'boot-host-www container' ||
        die "127.0.0.1:8080 did not answer with the container's page"
    local addr
    addr=$(guest_addr)
    [ -n "$addr" ] || die "the guest has no IPv4 address on eth0"
    fetch "http://$addr:8080/index.html" | has 'boot-host-www container' ||
        die "$addr:8080 did not answer with the container's page"
}
check root-publish-port root_publish

root_dns() {
    local out
    podman network create bootnet
    podman run -d --name srv --network bootnet localhost/busybox:boot /bin/httpd -f -p 80 -h /www
    out=$(podman run --rm --network bootnet localhost/busybox:boot /bin/sh -c 'nslookup srv; wget -q -T 10 -O - http://srv/index.html')
    echo "$out"
    echo "$out" | has 'boot-host-www container' || die "the client did not reach srv by name"
}
check root-dns-custom-network root_dns

# --- rootless podman, in tester's login session ----------------------------------------------
rootless_run() {
    local out
    grep tester /etc/subuid /etc/subgid
    as_tester 'echo "session: XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS=${DBUS_SESSION_BUS_ADDRESS:-}"; loginctl list-sessions --no-legend'
    as_tester 'tar -C /srv/bbroot -cf - . | podman import --change CMD=/bin/sh - localhost/busybox:boot'
    out=$(as_tester 'podman run --rm --network none localhost/busybox:boot /bin/cat /proc/self/uid_map /proc/self/gid_map')
    echo "$out"
    echo "$out" | has -E '^[[:space:]]*1[[:space:]]+100000[[:space:]]+65536' ||
        die "the container does not map tester's /etc/subuid range (newuidmap)"
}
check rootless-run rootless_run

rootless_cgroups() {
    local - err mgr
    set +x # the trace would land in the stderr judged here
    mgr=$(as_tester 'podman info --format "{{.Host.CgroupManager}}"' 2>"$STATE/info.err")
    err=$(cat "$STATE/info.err")
    echo "cgroup manager: $mgr"
    echo "${err:-podman info printed no warning}"
    [ "$mgr" = systemd ] || die "rootless podman uses $mgr, not systemd (the user's systemd over D-Bus)"
    [ -z "$err" ] || die "podman info warned"
}
check rootless-systemd-cgroups rootless_cgroups

rootless_pasta() {
    local out
    out=$(as_tester "podman run --rm localhost/busybox:boot /bin/sh -c 'ip -4 addr; ip route; wget -q -T 10 -O - http://host.containers.internal:8099/index.html'")
    echo "$out"
    echo "$out" | has -F "inet $(guest_addr)/" || die "pasta did not give the container the host's address"
    echo "$out" | has 'boot-host-www host' || die "the container did not reach the host through pasta"
}
check rootless-pasta rootless_pasta

rootless_publish() {
    as_tester 'podman run -d --name rweb -p 8081:80 localhost/busybox:boot /bin/httpd -f -p 80 -h /www'
    fetch http://127.0.0.1:8081/index.html | tee /dev/stderr | has 'boot-host-www container' ||
        die "127.0.0.1:8081 did not answer with the rootless container's page"
}
check rootless-publish-port rootless_publish

# --- a quadlet added at run time ----------------------------------------------------------------
quadlet_added_later() {
    sed 's/q-boot/q-late/g' /etc/containers/systemd/q-boot.container >/etc/containers/systemd/q-late.container
    systemctl daemon-reload
    settle
    systemctl cat q-late.service | head -20 || die "daemon-reload did not generate q-late.service"
    systemctl start q-late.service
    wait_active q-late.service 60
    podman ps --format '{{.Names}}' | has -x systemd-q-late || die "the q-late container is not running"
}
check quadlet-added-later quadlet_added_later

# --- the prepare service again: units the admin stopped stay stopped -----------------------------
admin_stopped_stays_stopped() {
    local c unit
    [ "$(systemctl is-active canary.service)" = active ] || die "canary.service (enabled) did not start at boot"
    systemctl stop canary.service
    c=$(cursor)
    unit=$(systemctl list-units --all --plain --no-legend 'podman-prepare*' | awk '{print $1; exit}')
    [ -n "$unit" ] || die "no podman-prepare unit"
    echo "rerunning $unit"
    systemctl restart "$unit"
    settle
    sleep 2
    settle
    since "$c"
    [ "$(systemctl is-active canary.service)" != active ] || die "canary.service, stopped by the admin, was started again"
    ! since "$c" | grep -E '^(Stopping [^ ]+\.target|Stopped target) ' || die "a rerun of $unit stopped targets"
}
check admin-stopped-unit-stays-stopped admin_stopped_stays_stopped

# --- refresh to a new version: the prepare service runs again ---------------------------------------
prepare_after_refresh() {
    local c log
    c=$(cursor)
    ln -f "$IMAGES/podman-v2.raw" /var/lib/extensions/podman.raw
    systemd-sysext refresh
    settle
    sleep 3
    settle
    log=$(since "$c")
    echo "$log"
    grep -qx "SYSEXT_VERSION_ID=$V2_ID" "$RELEASE" || die "refresh did not merge version $V2_ID"
    echo "$log" | has -E '^Starting podman-prepare[^ ]*\.service' || die "podman-prepare did not run after the refresh to $V2_ID"
    echo "$log" | has -E '^Finished podman-prepare[^ ]*\.service' || die "podman-prepare did not finish after the refresh"
    systemctl list-units --all --plain --no-legend 'podman-prepare*'
    [ "$(systemctl is-active canary.service)" != active ] || die "the refresh started canary.service, which the admin stopped"
    podman --version
}
check prepare-reruns-after-refresh prepare_after_refresh

# --- unmerge, a merge at run time, refresh ---------------------------------------------------------
unmerge() {
    local c
    systemd-sysext unmerge
    settle
    systemd-sysext status
    ! podman_merged || die "$RELEASE is still there after unmerge"
    [ "$(merged_into /usr)" = none ] || die "status does not show /usr without extensions"
    for c in $STACK_COMMANDS; do
        ! command -v "$c" || die "$c is still found without the extension"
    done
    echo "none of $STACK_COMMANDS is on the host without the extension"
}
check unmerge unmerge

# After an unmerge, the prepare instance of that merge stays listed as "not-found
# active (exited)": its unit file left with the extension, and systemd-sysext runs
# nothing at unmerge. What matters is the next merge, even of the same image: it
# gets an instance of its own (podman-extension-generator), which runs; the old
# one, found again in the template, is stopped as unneeded. The new instance
# starts the quadlet service the merge made startable, and nothing else: not
# units skipped at boot for a condition.
active_prepare() {
    systemctl list-units --state=active --plain --no-legend 'podman-prepare@*' | awk '{print $1}'
}
runtime_merge_quadlet() {
    active_prepare >"$STATE/prepare-before-merge"
    echo "prepare instance before the merge: $(cat "$STATE/prepare-before-merge")"
    sed 's/q-boot/q-merge/g' /etc/containers/systemd/q-boot.container >/etc/containers/systemd/q-merge.container
    systemd-sysext merge
    settle
    podman_merged || die "systemd-sysext merge did not merge podman"
    wait_active q-merge.service 60
    [ "$(systemctl is-active canary.service)" != active ] || die "the merge started canary.service, which the admin stopped"
}
check runtime-merge-starts-enabled-quadlet runtime_merge_quadlet

remerge_runs_prepare() {
    local before after started
    before=$(cat "$STATE/prepare-before-merge")
    after=$(active_prepare)
    systemctl list-units --all --plain --no-legend 'podman-prepare@*'
    echo "before the merge: ${before:-none}; after: ${after:-none}"
    [ -n "$after" ] || die "no podman-prepare instance is active after the merge"
    [ "$(printf '%s\n' "$after" | grep -c .)" -eq 1 ] || die "more than one podman-prepare instance is active"
    [ "$after" != "$before" ] || die "the merge of the same image did not get a prepare instance of its own"
    [ "$(systemctl is-active "$before")" != active ] || die "$before, of the earlier merge, is still active"
    started=$(journalctl -b --no-pager -o cat -u "$after" | tee /dev/stderr | sed -n 's/^starting \([^:]*\):.*/\1/p')
    [ "$started" = q-merge.service ] || die "$after started ${started:-nothing}, not q-merge.service alone"
}
check remerge-runs-prepare-again remerge_runs_prepare

refresh() {
    ln -f "$IMAGES/podman-v1.raw" /var/lib/extensions/podman.raw
    systemd-sysext refresh
    settle
    systemd-sysext status
    grep -qx "SYSEXT_VERSION_ID=$V1_ID" "$RELEASE" || die "refresh did not bring back version $V1_ID"
    podman --version | has -F "$PODMAN_V" || die "podman does not run after the refresh"
}
check refresh refresh

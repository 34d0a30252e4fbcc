# shellcheck shell=bash
# Scratch roots for systemd-sysext. Source after common.sh.
#
# make_root DIR IMAGE OS-RELEASE-LINE...: a root whose usr/lib/os-release holds
# the given lines, with IMAGE installed as var/lib/extensions/<its file name>.
make_root() {
    local root=$1 image=$2
    shift 2
    mkdir -p "$root/usr/lib" "$root/usr/bin" "$root/var/lib/extensions" \
        "$root/proc" "$root/dev" "$root/sys" "$root/run" "$root/etc"
    printf '%s\n' "$@" >"$root/usr/lib/os-release"
    cp "$image" "$root/var/lib/extensions/"
}

# merged ROOT SCRIPT: merges ROOT's extensions in a private mount namespace (see
# /work/shared/testing-here.md), then runs SCRIPT there with sh -c and $0 = ROOT.
# systemd-sysext may exit 0 without merging, so callers check the result.
merged() {
    unshare -m --propagation shared sh -c '
        set -e
        mount -t tmpfs tmpfs /run
        mount --make-rshared /
        systemd-sysext --root="$0" merge >/dev/null 2>&1 || true
        '"$2" "$1"
}

# merges ROOT PATH: prints "merged" when PATH (relative to ROOT) exists after
# merging, else "refused".
merges() {
    merged "$1" 'test -e "$0/'"$2"'" && echo merged || echo refused'
}

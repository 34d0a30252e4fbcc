# shellcheck shell=bash
# A small stand-in for a root that Flatcar's SDK installed podman's packages
# into: the paths profiles/podman.json's flatcar target selects (scripts and
# unit stubs for contents), etc/ files the target must relocate or leave out,
# and usr/bin/not-podman, which its select must not take. Source after
# common.sh.
#
#   make_flatcar_sdk_root DIR

make_flatcar_sdk_root() {
    local root=$1 f u
    for f in usr/bin/podman usr/bin/conmon usr/bin/crun usr/bin/runc usr/bin/passt usr/bin/catatonit \
             usr/libexec/podman/rootlessport usr/libexec/podman/quadlet usr/libexec/podman/netavark \
             usr/libexec/podman/aardvark-dns usr/libexec/podman/catatonit usr/bin/not-podman; do
        sdk_root_file_ "$root" "$f"
    done
    ln -s passt "$root/usr/bin/pasta"
    for u in podman.socket podman.service podman-auto-update.service podman-auto-update.timer podman-restart.service; do
        sdk_root_file_ "$root" "usr/lib/systemd/system/$u" "[Unit]" 644
    done
    sdk_root_file_ "$root" usr/lib/systemd/user/podman.socket "[Unit]" 644
    mkdir -p "$root/usr/lib/systemd/system-generators" "$root/usr/lib/systemd/user-generators"
    ln -s ../../../libexec/podman/quadlet "$root/usr/lib/systemd/system-generators/podman-system-generator"
    ln -s ../../../libexec/podman/quadlet "$root/usr/lib/systemd/user-generators/podman-user-generator"
    sdk_root_file_ "$root" usr/share/containers/containers.conf "[engine]" 644
    sdk_root_file_ "$root" usr/share/containers/seccomp.json "{}" 644
    sdk_root_file_ "$root" etc/containers/registries.conf 'unqualified-search-registries = ["docker.io"]' 644
    sdk_root_file_ "$root" etc/passwd "root:x:0:0::/root:/bin/sh" 644
}

# sdk_root_file_ ROOT PATH [CONTENT [MODE]]: one file; a 0755 script by default.
sdk_root_file_() {
    mkdir -p "$(dirname "$1/$2")"
    printf '%s\n' "${3:-#!/bin/sh}" >"$1/$2"
    chmod "${4:-755}" "$1/$2"
}

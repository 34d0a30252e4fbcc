# shellcheck shell=bash
# What tests/vm/checks/sysupdate.sh needs in a guest, made with the real
# executable (sourced by tests/e2e/boot_host.sh after common.sh; needs
# $SYSEXT_BUILD, $SOURCE_DIR, $WORK, gpg and gpgv):
#   sysupdate_publish KEY CERT   two extensions, my-files (a signed disk image,
#       --ddi) and my-sidecars (signed with sidecars), each 1.0, 1.1 and the
#       revision 1.1-r1, for x86-64 and arm64, published with --gpg-key and
#       added to one index with `sysext-build index` after each publication
#       (gpgv checks it); a copy of the index after each, and one signed by
#       another key
#   sysupdate_install FILES      puts them into a guest's files: the index
#       snapshots, the x86-64 root hashes, the OpenPGP public key as
#       /etc/systemd/import-pubring.gpg, the certificate in /etc/verity.d, and
#       SU_PORT, SU_PATH in /var/lib/boot-checks/vars
#   sysupdate_cleanup            stops the throwaway GnuPG home's agent
su=$WORK/sysupdate
su_gnupg=$su/gnupg
su_port=8098 su_path=/ext/my-files

sysupdate_cleanup() {
    [ ! -d "$su_gnupg" ] || gpgconf --homedir "$su_gnupg" --kill gpg-agent 2>/dev/null || true
}

su_run() { # su_run LOG COMMAND...: quiet unless it fails
    local log=$1
    shift
    "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "$*"; }
}

# su_release SNAPSHOT NAME VERSION [--revision N] [--ddi]: both architectures into releases-SNAPSHOT
su_release() {
    local snap=$1 name=$2 version=$3 arch tree
    shift 3
    local rev='' a
    for a in "$@"; do
        [ "$a" != --revision ] || rev=-r1
    done
    tree=$su/tree-$name-$snap
    mkdir -p "$tree/usr/share/$name"
    echo "$name $version$rev" >"$tree/usr/share/$name/marker"
    for arch in x86-64 arm64; do
        su_run "$su/build-$name-$snap-$arch.log" "$SYSEXT_BUILD" build "$su/$name.json" \
            --set "root=$tree" --set "version=$version" "$@" --arch "$arch" -o "$su/out-$name-$snap-$arch" \
            --key "$su_key" --cert "$su_cert" --release-dir "$su/releases-$snap" \
            --base-url "http://127.0.0.1:$su_port$su_path" --gpg-key sysupdate@127.0.0.1 --gpg-homedir "$su_gnupg"
    done
    # The x86-64 image's dm-verity root hash, for the guest to find its device.
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["signature"]["root_hash"])' \
        "$(ls -d "$su/releases-$snap"/*/"$name"-*-x86-64)/manifest.json" >"$su/roothash-$name-$snap" ||
        fail "no root hash in the manifest of $name in $snap"
}

su_snapshot() { # su_snapshot SNAPSHOT: add releases-SNAPSHOT to the index, keep a copy
    local snap=$1
    su_run "$su/index-$snap.log" "$SYSEXT_BUILD" index "$su/index" "$su/releases-$snap" \
        --gpg-key sysupdate@127.0.0.1 --gpg-homedir "$su_gnupg"
    gpgv --keyring "$su/import-pubring.gpg" "$su/index/SHA256SUMS.gpg" "$su/index/SHA256SUMS" 2>/dev/null ||
        fail "gpgv refuses the index after $snap"
    cp -a "$su/index" "$su/snapshots/$snap"
}

sysupdate_publish() {
    su_key=$1 su_cert=$2
    mkdir -p "$su/snapshots"
    mkdir -m 700 "$su_gnupg"
    local who name
    for who in sysupdate other; do
        gpg --homedir "$su_gnupg" --batch --quiet --passphrase '' --quick-gen-key "boot test <$who@127.0.0.1>" \
            ed25519 sign never 2>/dev/null || fail "gpg --quick-gen-key"
    done
    gpg --homedir "$su_gnupg" --batch --quiet --export sysupdate@127.0.0.1 >"$su/import-pubring.gpg"
    # my-sidecars: profiles/my-files.json under another name.
    cp "$SOURCE_DIR/profiles/my-files.json" "$su/my-files.json"
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d["name"] = "my-sidecars"
json.dump(d, open(sys.argv[2], "w"), indent=2)' "$su/my-files.json" "$su/my-sidecars.json"
    su_release idx-a my-files 1.0 --ddi
    su_release idx-a my-sidecars 1.0
    su_snapshot idx-a
    su_release idx-b my-files 1.1 --ddi
    su_release idx-b my-sidecars 1.1
    su_snapshot idx-b
    su_release idx-c my-files 1.1 --revision 1 --ddi
    su_release idx-c my-sidecars 1.1 --revision 1
    su_snapshot idx-c
    # The last index with the signature of a key the guest does not trust.
    cp -a "$su/index" "$su/snapshots/idx-forged"
    gpg --homedir "$su_gnupg" --batch --quiet --yes --local-user other@127.0.0.1 --detach-sign \
        -o "$su/snapshots/idx-forged/SHA256SUMS.gpg" "$su/index/SHA256SUMS" || fail "forged signature"
    for name in my-files my-sidecars; do
        for a in x86-64 arm64; do
            grep -q "  $name-1.1-r1-$a.raw\$" "$su/index/SHA256SUMS" || fail "the index lacks $name-1.1-r1-$a.raw"
        done
    done
    # The sidecars travel under names no other transfer's pattern begins.
    grep -q "  my-sidecars-1.1-r1-x86-64.p7s\$" "$su/index/SHA256SUMS" || fail "the index lacks the .p7s"
    if grep -F '.roothash.' "$su/index/SHA256SUMS"; then
        fail "the index lists a name that begins with a .roothash's"
    fi
}

sysupdate_install() {
    local files=$1 name snap
    mkdir -p "$files/var/lib/boot-checks/sysupdate" "$files/etc/systemd" "$files/etc/verity.d"
    cp -a "$su/snapshots/." "$files/var/lib/boot-checks/sysupdate/"
    for name in my-files my-sidecars; do
        for snap in idx-a idx-b idx-c; do
            cp "$su/roothash-$name-$snap" "$files/var/lib/boot-checks/sysupdate/"
        done
    done
    cp "$su/import-pubring.gpg" "$files/etc/systemd/import-pubring.gpg"
    cp "$su_cert" "$files/etc/verity.d/sysupdate-test.crt"
    cat >>"$files/var/lib/boot-checks/vars" <<VARS
SU_PORT='$su_port'
SU_PATH='$su_path'
VARS
}

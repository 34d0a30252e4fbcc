# A small Debian-style archive for tests, built with Debian's own tools
# (dpkg-deb, dpkg-scanpackages, gpg) and served on 127.0.0.1 by python3.
# Source this file after tests/e2e/lib/common.sh; everything lives under $WORK.
#
#   mirror_init                 key pair, keyring ($MIRROR_KEYRING), empty tree ($MIRROR_DIR)
#   mirror_add_deb NAME VERSION ARCH [DEPENDS [BYTES]]   a .deb under pool/main/,
#                               with BYTES of incompressible data when given
#   mirror_add_deb_tree NAME VERSION ARCH DEPENDS DIR   like mirror_add_deb, and the
#                               package also holds DIR's files (usr/..., as they are)
#   mirror_file DIR PATH CONTENT  writes CONTENT to $WORK/files/DIR/PATH and prints
#                               $WORK/files/DIR, the DIR to give mirror_add_deb_tree
#   mirror_index SUITE ARCH...  Packages(.xz) for each ARCH, Release, signed InRelease
#                               (with Valid-Until: $MIRROR_VALID_UNTIL when set)
#   mirror_serve                starts the server; sets $MIRROR_URL and $MIRROR_LOG
#   mirror_gets PATH_PART       how many GET requests the server logged for PATH_PART

mirror_init() {
    MIRROR_DIR=$WORK/mirror
    MIRROR_GNUPG=$WORK/gnupg
    MIRROR_KEYRING=$WORK/archive-keyring.gpg
    mkdir -p "$MIRROR_DIR/pool/main" "$MIRROR_GNUPG"
    chmod 700 "$MIRROR_GNUPG"
    GNUPGHOME=$MIRROR_GNUPG gpg --batch --quiet --passphrase '' \
        --quick-gen-key "sysext-build test archive <archive@127.0.0.1>" ed25519 sign never 2>/dev/null
    GNUPGHOME=$MIRROR_GNUPG gpg --batch --quiet --export >"$MIRROR_KEYRING"
}

mirror_add_deb() {
    mirror_build_deb_ "$1" "$2" "$3" "${4:-}" "${5:-0}" ""
}

mirror_add_deb_tree() {
    mirror_build_deb_ "$1" "$2" "$3" "$4" 0 "$5"
}

mirror_file() {
    mkdir -p "$(dirname "$WORK/files/$1/$2")"
    printf '%s\n' "$3" >"$WORK/files/$1/$2"
    echo "$WORK/files/$1"
}

mirror_build_deb_() {
    local name=$1 version=$2 arch=$3 depends=$4 bytes=$5 files=$6
    local root=$WORK/debroot/${name}_${version}_$arch
    rm -rf "$root"
    mkdir -p "$root/DEBIAN" "$root/usr/share/$name"
    [ -z "$files" ] || cp -a "$files/." "$root/"
    {
        echo "Package: $name"
        echo "Version: $version"
        echo "Architecture: $arch"
        echo "Maintainer: Test <test@127.0.0.1>"
        [ -n "$depends" ] && echo "Depends: $depends"
        echo "Description: test package $name"
    } >"$root/DEBIAN/control"
    echo "$name $version $arch" >"$root/usr/share/$name/version"
    [ "$bytes" -gt 0 ] && head -c "$bytes" /dev/urandom >"$root/usr/share/$name/data"
    local dir=$MIRROR_DIR/pool/main/${name:0:1}/$name
    mkdir -p "$dir"
    dpkg-deb --root-owner-group -Zxz --build "$root" "$dir/${name}_${version/*:/}_$arch.deb" >/dev/null
}

mirror_index() {
    local suite=$1
    shift
    local dists=$MIRROR_DIR/dists/$suite arch
    mkdir -p "$dists"
    for arch in "$@"; do
        mkdir -p "$dists/main/binary-$arch"
        (cd "$MIRROR_DIR" && dpkg-scanpackages --multiversion --arch "$arch" pool /dev/null 2>/dev/null) \
            >"$dists/main/binary-$arch/Packages"
        xz -kf "$dists/main/binary-$arch/Packages"
    done
    {
        echo "Origin: sysext-build test"
        echo "Suite: $suite"
        echo "Codename: $suite"
        echo "Date: Sat, 01 Nov 2025 00:00:00 UTC"
        [ -n "${MIRROR_VALID_UNTIL:-}" ] && echo "Valid-Until: $MIRROR_VALID_UNTIL"
        echo "Architectures: $*"
        echo "Components: main"
        echo "SHA256:"
        (cd "$dists" && for f in main/binary-*/Packages*; do
            printf ' %s %s %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
        done)
    } >"$dists/Release"
    rm -f "$dists/InRelease"
    GNUPGHOME=$MIRROR_GNUPG gpg --batch --quiet --clearsign -o "$dists/InRelease" "$dists/Release"
}

mirror_serve() {
    MIRROR_LOG=$WORK/mirror-http.log
    : >"$WORK/mirror-http.out"
    # Port 0: the kernel picks a free port; the server says which on stdout.
    (cd "$MIRROR_DIR" && exec python3 -u -m http.server 0 --bind 127.0.0.1) >"$WORK/mirror-http.out" \
        2>"$MIRROR_LOG" &
    MIRROR_PID=$!
    trap 'kill "$MIRROR_PID" 2>/dev/null; cleanup_work' EXIT
    local port="" i
    for i in $(seq 1 100); do
        port=$(sed -n 's/.* port \([0-9][0-9]*\).*/\1/p' "$WORK/mirror-http.out" | head -n1)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || fail "the test mirror did not start: $(cat "$MIRROR_LOG")"
    MIRROR_URL=http://127.0.0.1:$port
}

mirror_gets() {
    grep -c "\"GET [^\"]*$1" "$MIRROR_LOG" || true
}

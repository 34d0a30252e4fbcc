# shellcheck shell=bash
# Builds the test trees the pack tests feed to sysext-build and to the reference
# tools. Source it after common.sh. Every kind of entry an extension can carry is
# here once: the judges then show that each survives packing unchanged.
#
#   make_tree DIR [--portable] [--no-xattrs] [--release NAME:ID]
#     --portable   only what zip can carry (no hard links, FIFO, xattrs, sparse file)
#     --no-xattrs  no user.* xattrs and no file capability (plain tar, cpio)
#     --release    also write usr/lib/extension-release.d/extension-release.NAME
#                  with ID=ID (for tools that do not generate it)
#
# Paths the tests refer to:
readonly TREE_HELLO=usr/bin/sysext-e2e-hello          # static binary, prints $TREE_HELLO_OUT
readonly TREE_HELLO_OUT="hello from a sysext-build image"
readonly TREE_CAPFILE=usr/bin/sysext-e2e-cap          # has cap_net_raw+ep
readonly TREE_HARD1=usr/share/sysext-e2e/hard-one     # hard link pair
readonly TREE_HARD2=usr/share/sysext-e2e/hard-two
readonly TREE_SPARSE=usr/share/sysext-e2e/sparse.img  # 48 MiB, three data islands
TREE_LONGNAME=$(printf 'n%.0s' {1..251}).txt  # 255 bytes, the most a name may hold
readonly TREE_LONGNAME

# A statically linked program, built once per test run, so that it runs in a
# chroot that holds nothing else.
hello_binary() {
    local bin=$WORK/hello-static
    if [ ! -x "$bin" ]; then
        require_tool gcc
        printf '#include <stdio.h>\nint main(void) { puts("%s"); return 0; }\n' \
            "$TREE_HELLO_OUT" >"$WORK/hello.c"
        gcc -static -Os -o "$bin" "$WORK/hello.c"
    fi
    echo "$bin"
}

# Writes N pseudo-random bytes (incompressible, different on every call).
random_bytes() {
    head -c "$1" /dev/urandom
}

make_tree() {
    local t=$1
    shift
    local portable=0 xattrs=1 release=""
    while [ $# -gt 0 ]; do
        case $1 in
        --portable) portable=1; xattrs=0 ;;
        --no-xattrs) xattrs=0 ;;
        --release) release=$2; shift ;;
        *) fail "make_tree: unknown option $1" ;;
        esac
        shift
    done
    require_tool setfattr setcap mkfifo truncate
    local s=$t/usr/share/sysext-e2e
    mkdir -p "$t/usr/bin" "$s/a/b/c/d/e" "$s/empty-dir" "$t/opt/sysext-e2e/lib"
    chmod 0755 "$t" "$t/usr" "$t/opt"

    # Regular files: text, binary, empty, more than one block, identical twins.
    cp "$(hello_binary)" "$t/$TREE_HELLO"
    chmod 0755 "$t/$TREE_HELLO"
    printf 'plain text\nsecond line\n' >"$s/text.txt"
    random_bytes 70000 >"$s/binary.bin"
    : >"$s/empty"
    random_bytes $((3 * 131072 + 12345)) >"$s/three-blocks-and-a-tail.bin"
    random_bytes $((2 * 131072)) >"$s/exactly-two-blocks.bin"
    seq 1 200000 >"$s/compressible.txt"
    random_bytes 300000 >"$s/twin-a.bin"
    cp "$s/twin-a.bin" "$s/twin-b.bin"
    cp "$s/twin-a.bin" "$t/opt/sysext-e2e/lib/twin-c.bin"
    printf 'small twin\n' >"$s/small-twin-a"
    printf 'small twin\n' >"$s/small-twin-b"
    echo deep >"$s/a/b/c/d/e/deep.txt"

    # Names: spaces, UTF-8, quotes, bytewise order traps, the longest allowed name.
    echo space >"$s/with space.txt"
    echo utf8 >"$s/grüße-日本語.txt"
    echo quotes >"$s/it's \"quoted\""
    echo upper >"$s/Zebra"
    echo lower >"$s/apple"
    echo dash >"$s/-leading-dash"
    echo long >"$s/$TREE_LONGNAME"

    # Symlinks: relative, absolute, dangling, to a directory.
    ln -s sysext-e2e-hello "$t/usr/bin/sysext-e2e-hello-rel"
    ln -s /usr/bin/sysext-e2e-hello "$s/hello-abs"
    ln -s ../does/not/exist "$s/dangling"
    ln -s a/b/c "$s/dir-link"

    # Modes: setuid, setgid, sticky, unusual permission sets.
    echo suid >"$s/setuid"
    chmod 4755 "$s/setuid"
    echo sgid >"$s/setgid"
    chmod 2711 "$s/setgid"
    mkdir "$s/sticky"
    chmod 1777 "$s/sticky"
    echo private >"$s/private"
    chmod 0600 "$s/private"
    echo readonly >"$s/read-only"
    chmod 0444 "$s/read-only"
    mkdir "$s/private-dir"
    chmod 0700 "$s/private-dir"
    echo inside >"$s/private-dir/inside"

    cp "$t/$TREE_HELLO" "$t/$TREE_CAPFILE"
    if [ "$portable" = 0 ]; then
        # Entries zip cannot carry: hard links, a FIFO, a sparse file.
        random_bytes 5000 >"$t/$TREE_HARD1"
        ln "$t/$TREE_HARD1" "$t/$TREE_HARD2"
        mkfifo "$s/fifo"
        truncate -s 48M "$t/$TREE_SPARSE"
        printf 'start' | dd of="$t/$TREE_SPARSE" conv=notrunc status=none
        random_bytes 200000 | dd of="$t/$TREE_SPARSE" bs=1M seek=20 conv=notrunc status=none
        printf 'end' | dd of="$t/$TREE_SPARSE" bs=1 seek=$((48 * 1048576 - 3)) conv=notrunc status=none
    fi
    if [ "$xattrs" = 1 ]; then
        setfattr -n user.sysext-e2e -v "a value" "$s/text.txt"
        setfattr -n user.binary -v 0x00ff10 "$s/text.txt"
        setfattr -n user.on-dir -v dir "$s/a"
        setfattr -n user.binary-file -v trusted "$s/binary.bin" # trusted.* never reaches an image: e2e.pack_xattrs
        setfattr -n user.twin -v shared "$s/twin-a.bin"
        setcap cap_net_raw+ep "$t/$TREE_CAPFILE"
    fi
    if [ -n "$release" ]; then
        mkdir -p "$t/usr/lib/extension-release.d"
        printf 'ID=%s\n' "${release#*:}" >"$t/usr/lib/extension-release.d/extension-release.${release%%:*}"
    fi
}

# Prints one line per entry below DIR: path, type, mode, owner, size of regular
# files, link count of regular files and link target. Two trees that print the
# same lines agree on everything but contents and xattrs.
tree_listing() {
    (cd "$1" && find . -mindepth 1 \
        \( -type f -printf '%P|f|%m|%U:%G|%s|%n\n' \) -o \
        \( -type l -printf '%P|l|%U:%G|%l\n' \) -o \
        \( -type d -printf '%P|d|%m|%U:%G\n' \) -o \
        -printf '%P|%y|%m|%U:%G\n') | LC_ALL=C sort
}

# Prints every extended attribute below DIR (hex values), sorted by path.
tree_xattrs() {
    local p
    (cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
        while IFS= read -r -d '' p; do
            getfattr -h -d -m - -e hex "$p" 2>/dev/null | grep -v '^$' || true
        done)
}

# image_path CASE: where to write one test's image. pack insists that the file
# be called NAME.raw (systemd-sysext derives the name from it), so images of the
# extension "e2e" live in one directory per case.
image_path() {
    mkdir -p "$WORK/images/$1"
    echo "$WORK/images/$1/e2e.raw"
}

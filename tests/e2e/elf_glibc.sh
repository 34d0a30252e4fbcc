#!/usr/bin/env bash
# Images for any host (ID=_any) promise nothing about the host's libraries:
# one holding dynamically linked files is refused unless its target states the
# oldest glibc it runs with, and then every GLIBC_x.y symbol version a binary
# needs must be no newer. Judged against readelf's list of the version needs
# of a real binary of this machine.
source "$(dirname "$0")/lib/common.sh"
require_tool readelf python3

bin=/bin/ls
newest=$(readelf -VW "$bin" | sed -n 's/.*Name: GLIBC_\([0-9.]*\).*/\1/p' | sort -t. -k1,1n -k2,2n | tail -1)
[ -n "$newest" ] || fail "readelf names no GLIBC_ version needed by $bin"
older=$(python3 -c 'import sys; a, b = sys.argv[1].split(".")[:2]; print(f"{a}.{int(b) - 1}")' "$newest")
mkdir -p "$WORK/tree/usr/bin"
cp "$bin" "$WORK/tree/usr/bin/ls"
profile() { # profile FILE [GLIBC]
    local glibc=""
    [ -z "${2:-}" ] || glibc=", \"glibc\": \"$2\""
    cat >"$1" <<JSON
{
  "name": "lsx",
  "targets": {"any": {"release": {"ID": "_any"}$glibc,
                      "sources": [{"type": "directory", "path": "$WORK/tree"}]}}
}
JSON
}
build() { "$SYSEXT_BUILD" build "$1" --set version=1 -o "$WORK/out" --base-root /; }

step "ID=_any with a dynamically linked file and no glibc stated: refused"
profile "$WORK/none.json"
expect_fail "an image for any host (ID=_any) holds 1 dynamically linked files (usr/bin/ls)" build "$WORK/none.json"
[ ! -e "$WORK/out/lsx.raw" ] || fail "an image was written"

step "glibc $older stated, the binary needs GLIBC_$newest (readelf): refused, the version named"
profile "$WORK/older.json" "$older"
expect_fail "usr/bin/ls: needs GLIBC_$newest (of libc.so.6), newer than the glibc $older the image promises" \
    build "$WORK/older.json"

step "glibc $newest stated: accepted"
profile "$WORK/newest.json" "$newest"
build "$WORK/newest.json" >/dev/null 2>&1 || fail "glibc $newest: refused: $(build "$WORK/newest.json" 2>&1 | tail -3)"
[ -f "$WORK/out/lsx.raw" ] || fail "no image"
echo PASS

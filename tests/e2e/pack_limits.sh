#!/usr/bin/env bash
# Bounded work on hostile input: a tar whose one path has 10,000 or 100,000
# levels (30 kB and 200 kB of tar) is refused at once with exit 3 and a message
# naming the limit (it took 51 s, and a stack overflow); a 4,095-byte path is
# packed and read back by unsquashfs and our own inspect; a profile path with a
# NUL byte, a profile nested 40,000 deep and a number like 1e999 are input
# errors (exit 3), not a crash or gigabytes; signature sidecars that are a link
# to /dev/zero or a FIFO are refused at once (exit 4), not read forever. Each
# refusal's peak memory is measured (GNU time) and must stay under 128 MB; the
# figures go to build/reports/pack-limits.txt.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool python3 unsquashfs timeout /usr/bin/time
report_dir=$SOURCE_DIR/build/reports
mkdir -p "$report_dir"
report=$report_dir/pack-limits.txt
: >"$report"

# bounded NAME COMMAND...: runs COMMAND (20 s at most; output in $WORK/err), sets
# rc, and records its peak memory, which must stay under 128 MB.
bounded() {
    local name=$1 kb
    shift
    rc=0
    timeout 20 /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >"$WORK/err" 2>&1 || rc=$?
    kb=$(tail -1 "$WORK/rss")
    echo "$name: exit $rc, peak RSS $((kb / 1024)) MB" | tee -a "$report"
    [ "$kb" -lt $((128 * 1024)) ] || fail "$name: peak RSS $kb kB, more than 128 MB"
}

python3 - "$WORK" <<'PY'
import io, sys, tarfile
work = sys.argv[1]
def deep(name, levels):
    with tarfile.open(f"{work}/{name}", "w", format=tarfile.PAX_FORMAT) as t:
        path = "/".join(["a"] * levels) + "/f"
        info = tarfile.TarInfo(path); info.size = 1
        t.addfile(info, io.BytesIO(b"x"))
        rel = tarfile.TarInfo("usr/lib/extension-release.d/extension-release.deep")
        body = b"ID=_any\n"; rel.size = len(body)
        t.addfile(rel, io.BytesIO(body))
deep("deep10k.tar", 10000)
deep("deep100k.tar", 100000)
# The longest path allowed: 4095 bytes below the root.
with tarfile.open(f"{work}/longest.tar", "w", format=tarfile.PAX_FORMAT) as t:
    comps, left = [], 4095 - len("usr/") - len("/f")
    while left > 0:
        n = min(200, left - 1 if left > 201 else left)
        comps.append("d" * n); left -= n + 1
    path = "usr/" + "/".join(comps)[: 4095 - len("usr/") - 2] + "/f"
    path = path[:4095]
    info = tarfile.TarInfo(path); info.size = 1
    t.addfile(info, io.BytesIO(b"x"))
    open(f"{work}/longest.path", "w").write(path)
    rel = tarfile.TarInfo("usr/lib/extension-release.d/extension-release.longest")
    body = b"ID=_any\n"; rel.size = len(body)
    t.addfile(rel, io.BytesIO(body))
PY

for t in deep10k deep100k; do
    step "$t.tar: refused at once, exit 3, the limit named"
    cp "$WORK/$t.tar" "$WORK/deep.tar"
    bounded "$t.tar" "$SYSEXT_BUILD" pack "$WORK/deep.tar" -o "$WORK/deep.raw"
    [ "$rc" = 3 ] || fail "$t: exit $rc, not 3: $(head -c 600 "$WORK/err")"
    grep -q "the limit is 4095" "$WORK/err" || fail "$t: the limit is not named: $(head -c 600 "$WORK/err")"
    [ ! -e "$WORK/deep.raw" ] || fail "$t: an image was written"
done

step "a path of exactly 4095 bytes is packed, and read back by unsquashfs and inspect"
[ "$(wc -c <"$WORK/longest.path")" -le 4095 ] || fail "the test's path is too long"
"$SYSEXT_BUILD" -q pack "$WORK/longest.tar" -o "$WORK/longest.raw" || fail "the longest allowed path was refused"
unsquashfs -lln "$WORK/longest.raw" | grep -qF "squashfs-root/$(cat "$WORK/longest.path")" || fail "unsquashfs does not list it"
"$SYSEXT_BUILD" inspect "$WORK/longest.raw" --list | grep -qF "$(cat "$WORK/longest.path")" || fail "inspect does not list it"

step "a profile path with a NUL byte: an input error naming it"
mkdir -p "$WORK/p"
cat >"$WORK/p/nul.json" <<'JSON'
{
  "name": "nul",
  "targets": {"any": {"release": {"ID": "_any"}, "sources": [{"type": "directory", "path": "."}]}},
  "files": [{"path": "usr/share/\u0000x", "lines": ["a"]}]
}
JSON
bounded "profile path with NUL" "$SYSEXT_BUILD" build "$WORK/p/nul.json" --set version=1 -o "$WORK/nul-out"
[ "$rc" = 3 ] || fail "NUL in a profile path: exit $rc, not 3: $(cat "$WORK/err")"
grep -q "NUL" "$WORK/err" || fail "the NUL byte is not named: $(cat "$WORK/err")"
step "a profile nested 40,000 deep, and 1e999: exit 3 at once"
python3 -c 'print("{\"name\": \"x\", \"v\": " + "[" * 40000 + "]" * 40000 + "}")' >"$WORK/p/deep.json"
bounded "profile nested 40,000 deep" "$SYSEXT_BUILD" build "$WORK/p/deep.json" -o "$WORK/x"
[ "$rc" = 3 ] && grep -q "nested deeper than 32 levels" "$WORK/err" || fail "deep profile: exit $rc: $(cat "$WORK/err")"
printf '{"name": "x", "v": 1e999}' >"$WORK/p/big.json"
bounded "profile number 1e999" "$SYSEXT_BUILD" build "$WORK/p/big.json" -o "$WORK/x"
[ "$rc" = 3 ] && grep -q "1e999" "$WORK/err" || fail "1e999: exit $rc: $(cat "$WORK/err")"

step "sidecars that never end or never come: refused at once"
mkdir -p "$WORK/s"
"$SYSEXT_BUILD" -q keygen -o "$WORK/keys"
"$SYSEXT_BUILD" -q pack "$WORK/longest.tar" -o "$WORK/s/longest.raw"
"$SYSEXT_BUILD" -q sign "$WORK/s/longest.raw" --key "$WORK/keys/development.key" --cert "$WORK/keys/development.crt"
rm "$WORK/s/longest.roothash"
ln -s /dev/zero "$WORK/s/longest.roothash"
bounded ".roothash a link to /dev/zero" "$SYSEXT_BUILD" verify "$WORK/s/longest.raw" --cert "$WORK/keys/development.crt"
[ "$rc" = 4 ] && grep -q "longest.roothash: not a regular file" "$WORK/err" || fail "/dev/zero .roothash: exit $rc: $(cat "$WORK/err")"
rm "$WORK/s/longest.roothash.p7s"
mkfifo "$WORK/s/longest.roothash.p7s"
bounded ".roothash.p7s a FIFO" "$SYSEXT_BUILD" inspect "$WORK/s/longest.raw"
[ "$rc" = 4 ] && grep -q "not a regular file" "$WORK/err" || fail "FIFO .roothash.p7s: exit $rc: $(cat "$WORK/err")"
step "a payload whose header announces a 4 GiB manifest: refused unread"
python3 -c 'import struct, sys; open(sys.argv[1], "wb").write(b"CrAU" + struct.pack(">QQ", 1, 1 << 32) + b"x" * 100)' \
    "$WORK/huge.gz"
bounded "payload announcing a 4 GiB manifest" "$SYSEXT_BUILD" payload inspect "$WORK/huge.gz"
[ "$rc" = 4 ] && grep -q "announces a 4294967296 bytes manifest" "$WORK/err" || fail "4 GiB manifest: exit $rc: $(cat "$WORK/err")"
echo PASS

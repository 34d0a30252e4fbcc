# fetch-deb against a Debian-style archive this test builds, signs and serves on
# 127.0.0.1: version choice, dependency closure, signature and hash checks, the
# download cache, and lock file replay. Judged with dpkg-deb, sha256sum, python3.
source "$(dirname "$0")/lib/common.sh"
source "$SOURCE_DIR/tests/tools/debian_mirror.sh"
require_tool gpg gpgv dpkg-deb dpkg-scanpackages python3 xz sha256sum

step "build and serve a signed test archive"
mirror_init
mirror_add_deb tool 4.9.4-1 amd64 "libfoo1"
mirror_add_deb tool 5.4.1-1 amd64 "libfoo1"
mirror_add_deb tool 5.4.2+ds1-1 amd64 "libfoo1 (>= 1.2), base-thing (>= 3), libbar | libbaz"
mirror_add_deb tool 6.0~rc1-1 amd64 "libfoo1"
mirror_add_deb tool 5.4.2+ds1-1 arm64 "libfoo1"
mirror_add_deb libfoo1 1.1-1 amd64
mirror_add_deb libfoo1 1.3-2 amd64 "libc6"
mirror_add_deb libfoo1 1.3-2 arm64
mirror_add_deb libbar 2.0-1 all
mirror_add_deb bigpkg 1.0-1 amd64 "" 200000
mirror_index stable amd64 arm64
mirror_serve
base=(--mirror "$MIRROR_URL" --suite stable --keyring "$MIRROR_KEYRING")
packages_field() { # packages_field ARCH NAME VERSION FIELD: from the index dpkg-scanpackages wrote
    python3 - "$MIRROR_DIR/dists/stable/main/binary-$1/Packages" "$2" "$3" "$4" <<'PY'
import sys
path, name, version, field = sys.argv[1:]
for stanza in open(path).read().split("\n\n"):
    f = dict(l.split(": ", 1) for l in stanza.splitlines() if ": " in l and not l.startswith(" "))
    if f.get("Package") == name and f.get("Version") == version:
        print(f[field]); break
PY
}

step "5.x picks the highest 5 release and the dependencies the base lacks"
export XDG_CACHE_HOME=$WORK/xdg
"$SYSEXT_BUILD" fetch-deb "${base[@]}" --with-depends --assume-installed base-thing \
    --assume-installed libc6 -o "$WORK/out1" --lock "$WORK/out1.lock" tool=5.x >"$WORK/out1.txt"
ls "$WORK/out1" | sort >"$WORK/out1.list"
printf '%s\n' libbar_2.0-1_all.deb libfoo1_1.3-2_amd64.deb tool_5.4.2+ds1-1_amd64.deb | diff - "$WORK/out1.list" \
    || fail "wrong set of packages"
[ "$(dpkg-deb -f "$WORK/out1/tool_5.4.2+ds1-1_amd64.deb" Version)" = "5.4.2+ds1-1" ] || fail "wrong tool version"
[ "$(dpkg-deb -f "$WORK/out1/libfoo1_1.3-2_amd64.deb" Version)" = "1.3-2" ] || fail "wrong libfoo1 version"
for f in "$WORK"/out1/*.deb; do
    n=$(dpkg-deb -f "$f" Package) v=$(dpkg-deb -f "$f" Version) a=$(dpkg-deb -f "$f" Architecture)
    [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(packages_field amd64 "$n" "$v" SHA256)" ] || fail "$f: hash differs"
done
[ -d "$XDG_CACHE_HOME/sysext-build/downloads" ] || fail "default cache not under XDG_CACHE_HOME"
python3 - "$WORK/out1.lock" "$MIRROR_URL" <<'PY' || fail "lock file content"
import json, sys
lock = json.load(open(sys.argv[1]))
assert lock["sysext-build-lock"] == 1
got = [(e["kind"], e["name"], e["version"], e["architecture"]) for e in lock["inputs"]]
assert got == [("deb", "libbar", "2.0-1", "all"), ("deb", "libfoo1", "1.3-2", "amd64"),
               ("deb", "tool", "5.4.2+ds1-1", "amd64")], got
t = lock["inputs"][2]
assert t["url"] == sys.argv[2] + "/" + t["filename"], t
assert t["filename"] == "pool/main/t/tool/tool_5.4.2+ds1-1_amd64.deb", t
PY

step "other patterns and architectures"
# --arch takes systemd's names (x86-64), as every command does; the packages are Debian's (amd64).
for case in "tool=5.4.1 tool_5.4.1-1_amd64.deb x86-64 amd64" "tool=5.4.x tool_5.4.2+ds1-1_amd64.deb x86-64 amd64" \
    "tool tool_6.0~rc1-1_amd64.deb x86-64 amd64" "tool=4.x tool_4.9.4-1_amd64.deb x86-64 amd64" \
    "tool=5.x tool_5.4.2+ds1-1_arm64.deb arm64 arm64"; do
    set -- $case
    rm -rf "$WORK/outp"
    "$SYSEXT_BUILD" -q fetch-deb "${base[@]}" --arch "$3" -o "$WORK/outp" "$1"
    [ "$(ls "$WORK/outp")" = "$2" ] || fail "$1 ($3): got $(ls "$WORK/outp")"
    [ "$(dpkg-deb -f "$WORK/outp/$2" Architecture)" = "$4" ] || fail "$1: wrong architecture"
done
expect_exit 2 "sysext-build: error: --arch: unknown architecture \"amd64\" (did you mean \"x86-64\"?); fetch-deb takes systemd's names, as every command does: x86-64, arm64, ..." \
    "$SYSEXT_BUILD" fetch-deb "${base[@]}" --arch amd64 -o "$WORK/x" tool
step "a suite the mirror does not have is an input error (exit 3)"
expect_exit 3 "sysext-build: error: no suite \"stabel\" on this mirror ($MIRROR_URL/dists/stabel/InRelease: download failed: HTTP status 404)" \
    "$SYSEXT_BUILD" fetch-deb --mirror "$MIRROR_URL" --suite stabel --keyring "$MIRROR_KEYRING" -o "$WORK/x" tool
expect_fail 'no version of "tool" matches "7.x" (available: 4.9.4-1, 5.4.1-1, 5.4.2+ds1-1, 6.0~rc1-1)' \
    "$SYSEXT_BUILD" fetch-deb "${base[@]}" -o "$WORK/x" tool=7.x
expect_fail 'package "tol" is not in the amd64 index (did you mean "tool"?)' \
    "$SYSEXT_BUILD" fetch-deb "${base[@]}" -o "$WORK/x" tol
expect_fail 'tool 5.4.2+ds1-1 depends on base-thing (>= 3), which no package in the amd64 index satisfies' \
    "$SYSEXT_BUILD" fetch-deb "${base[@]}" --with-depends --assume-installed libc6 -o "$WORK/x" tool=5.x

step "the second run uses the cache, and a damaged entry is fetched again"
gets_before=$(mirror_gets /pool/)
"$SYSEXT_BUILD" fetch-deb "${base[@]}" --with-depends --assume-installed base-thing \
    --assume-installed libc6 -o "$WORK/out2" tool=5.x >"$WORK/out2.txt"
[ "$(mirror_gets /pool/)" = "$gets_before" ] || fail "cached packages were downloaded again"
[ "$(grep -c ', cached)' "$WORK/out2.txt")" = 3 ] || fail "not reported as cached: $(cat "$WORK/out2.txt")"
"$SYSEXT_BUILD" --json fetch-deb "${base[@]}" -o "$WORK/out2j" tool=5.4.x >"$WORK/out2.json"
python3 - "$WORK/out2.json" "$WORK/out2j" <<'PY' || fail "--json output: $(cat "$WORK/out2.json")"
import json, sys
out = json.load(open(sys.argv[1]))
assert [(d["name"], d["version"], d["from_cache"]) for d in out] == [("tool", "5.4.2+ds1-1", True)], out
assert out[0]["path"] == sys.argv[2] + "/tool_5.4.2+ds1-1_amd64.deb", out
PY
tool_sha=$(packages_field amd64 tool 5.4.2+ds1-1 SHA256)
cache_entry=$XDG_CACHE_HOME/sysext-build/downloads/$tool_sha
printf 'garbage' | dd of="$cache_entry" bs=1 seek=100 conv=notrunc 2>/dev/null
"$SYSEXT_BUILD" fetch-deb "${base[@]}" -o "$WORK/out3" tool=5.x >"$WORK/out3.txt" 2>"$WORK/out3.err"
grep -q "warning: $cache_entry: damaged cache entry" "$WORK/out3.err" || fail "no warning: $(cat "$WORK/out3.err")"
[ "$(mirror_gets /pool/main/t/tool/tool_5.4.2+ds1-1_amd64.deb)" = 2 ] || fail "damaged entry not fetched again"
[ "$(sha256sum <"$cache_entry" | cut -d' ' -f1)" = "$tool_sha" ] || fail "cache entry not repaired"
cmp "$WORK/out1/tool_5.4.2+ds1-1_amd64.deb" "$WORK/out3/tool_5.4.2+ds1-1_amd64.deb" || fail "different bytes"

step "the lock file fetches exactly the same packages, without the index"
rm -rf "$MIRROR_DIR/dists"
dists_gets=$(mirror_gets /dists/)
"$SYSEXT_BUILD" fetch-deb --from-lock "$WORK/out1.lock" --download-cache "$WORK/cache-lock" -o "$WORK/out4" \
    --lock "$WORK/out4.lock"
for f in "$WORK"/out1/*.deb; do cmp "$f" "$WORK/out4/$(basename "$f")" || fail "lock replay differs: $f"; done
cmp "$WORK/out1.lock" "$WORK/out4.lock" || fail "lock replay wrote a different lock"
[ "$(mirror_gets /dists/)" = "$dists_gets" ] || fail "lock replay read the index"
mirror_index stable amd64 arm64

step "a tampered .deb is refused, naming the file and both hashes"
cp "$MIRROR_DIR/pool/main/l/libfoo1/libfoo1_1.3-2_amd64.deb" "$WORK/libfoo1.orig"
mirror_add_deb libfoo1 1.3-2 amd64 "libc6, evil" # same name, different bytes; index not updated
foo_sha=$(packages_field amd64 libfoo1 1.3-2 SHA256)
bad_sha=$(sha256sum <"$MIRROR_DIR/pool/main/l/libfoo1/libfoo1_1.3-2_amd64.deb" | cut -d' ' -f1)
rc=0
"$SYSEXT_BUILD" fetch-deb "${base[@]}" --download-cache "$WORK/cache-t1" -o "$WORK/out5" libfoo1 2>"$WORK/t1.err" || rc=$?
[ "$rc" = 4 ] || fail "tampered .deb: exit code $rc, expected 4: $(cat "$WORK/t1.err")"
grep -qF "$MIRROR_URL/pool/main/l/libfoo1/libfoo1_1.3-2_amd64.deb: SHA-256 mismatch: expected $foo_sha ($(packages_field amd64 libfoo1 1.3-2 Size) bytes), got $bad_sha" \
    "$WORK/t1.err" || fail "tampered .deb message: $(cat "$WORK/t1.err")"
[ ! -e "$WORK/out5/libfoo1_1.3-2_amd64.deb" ] || fail "a tampered .deb reached the output"
[ ! -e "$WORK/cache-t1/$bad_sha" ] && [ ! -e "$WORK/cache-t1/$foo_sha" ] || fail "a tampered .deb entered the cache"
expect_fail "libfoo1_1.3-2_amd64.deb: SHA-256 mismatch: expected $foo_sha ($(packages_field amd64 libfoo1 1.3-2 Size) bytes), got $bad_sha" \
    "$SYSEXT_BUILD" fetch-deb --from-lock "$WORK/out1.lock" --download-cache "$WORK/cache-t2" -o "$WORK/out6"
cp "$WORK/libfoo1.orig" "$MIRROR_DIR/pool/main/l/libfoo1/libfoo1_1.3-2_amd64.deb"

step "a tampered Packages index is refused, naming the file and both hashes"
packages_xz=$MIRROR_DIR/dists/stable/main/binary-amd64/Packages.xz
good_sha=$(sha256sum <"$packages_xz" | cut -d' ' -f1)
cp "$packages_xz" "$WORK/Packages.xz.orig"
sed 's/^Version: 5.4.1-1$/Version: 9.9-1/' "$MIRROR_DIR/dists/stable/main/binary-amd64/Packages" | xz >"$packages_xz"
bad_sha=$(sha256sum <"$packages_xz" | cut -d' ' -f1)
expect_fail "$MIRROR_URL/dists/stable/main/binary-amd64/Packages.xz: SHA-256 mismatch: expected $good_sha ($(stat -c %s "$WORK/Packages.xz.orig") bytes), got $bad_sha" \
    "$SYSEXT_BUILD" fetch-deb "${base[@]}" --download-cache "$WORK/cache-t3" -o "$WORK/x" tool
cp "$WORK/Packages.xz.orig" "$packages_xz"

step "a bad signature is refused with gpgv's verdict"
inrelease=$MIRROR_DIR/dists/stable/InRelease
cp "$inrelease" "$WORK/InRelease.orig"
sed -i 's/^Suite: stable$/Suite: stablf/' "$inrelease"
rc=0
"$SYSEXT_BUILD" fetch-deb "${base[@]}" --download-cache "$WORK/cache-t4" -o "$WORK/x" tool 2>"$WORK/sig.err" || rc=$?
[ "$rc" = 4 ] || fail "bad signature: exit code $rc, expected 4"
grep -qF "$MIRROR_URL/dists/stable/InRelease: signature check failed: gpgv: BAD signature from \"sysext-build test archive" \
    "$WORK/sig.err" || fail "bad signature message: $(cat "$WORK/sig.err")"
cp "$WORK/InRelease.orig" "$inrelease"
GNUPGHOME=$MIRROR_GNUPG gpg --batch --quiet --passphrase '' \
    --quick-gen-key "someone else <other@127.0.0.1>" ed25519 sign never 2>/dev/null
GNUPGHOME=$MIRROR_GNUPG gpg --batch --quiet --export "other@127.0.0.1" >"$WORK/other-keyring.gpg"
expect_fail "InRelease: signature check failed: gpgv: Can't check signature: No public key" \
    "$SYSEXT_BUILD" fetch-deb --mirror "$MIRROR_URL" --suite stable --keyring "$WORK/other-keyring.gpg" \
    --download-cache "$WORK/cache-t5" -o "$WORK/x" tool
# Signed, but for another suite: refused too.
mkdir -p "$MIRROR_DIR/dists/testing"
cp -r "$MIRROR_DIR/dists/stable/." "$MIRROR_DIR/dists/testing/"
expect_fail 'InRelease: describes suite "stable" (codename "stable"), not "testing"' \
    "$SYSEXT_BUILD" fetch-deb --mirror "$MIRROR_URL" --suite testing --keyring "$MIRROR_KEYRING" \
    --download-cache "$WORK/cache-t6" -o "$WORK/x" tool

# Signed and for this suite, but out of date.
MIRROR_VALID_UNTIL="Sat, 01 Nov 2025 00:00:00 UTC" mirror_index stable amd64 arm64
expect_fail "InRelease: expired on Sat, 01 Nov 2025 00:00:00 UTC (Valid-Until)" \
    "$SYSEXT_BUILD" fetch-deb "${base[@]}" --download-cache "$WORK/cache-t10" -o "$WORK/x" tool
MIRROR_VALID_UNTIL="Fri, 01 Jan 2100 00:00:00 UTC" mirror_index stable amd64 arm64
"$SYSEXT_BUILD" -q fetch-deb "${base[@]}" --download-cache "$WORK/cache-t10" -o "$WORK/out7" tool=4.x
[ -e "$WORK/out7/tool_4.9.4-1_amd64.deb" ] || fail "a Release valid until 2100 was refused"

step "transfer errors name the URL and the cause"
rm "$MIRROR_DIR/pool/main/l/libbar/libbar_2.0-1_all.deb"
expect_fail "$MIRROR_URL/pool/main/l/libbar/libbar_2.0-1_all.deb: download failed: HTTP status 404" \
    "$SYSEXT_BUILD" fetch-deb "${base[@]}" --download-cache "$WORK/cache-t7" -o "$WORK/x" libbar
big_size=$(packages_field amd64 bigpkg 1.0-1 Size)
expect_fail "bigpkg_1.0-1_amd64.deb: its size of $big_size bytes is above the limit of 100000" \
    "$SYSEXT_BUILD" fetch-deb "${base[@]}" --download-cache "$WORK/cache-t8" --max-download-size 100000 -o "$WORK/x" bigpkg
# A server sending more than the limit is cut off, whatever the index says.
cp "$MIRROR_DIR/pool/main/b/bigpkg/bigpkg_1.0-1_amd64.deb" "$MIRROR_DIR/pool/main/l/libbar/libbar_2.0-1_all.deb"
expect_fail "libbar_2.0-1_all.deb: larger than the limit of 100000 bytes" \
    "$SYSEXT_BUILD" fetch-deb "${base[@]}" --download-cache "$WORK/cache-t9" --max-download-size 100000 -o "$WORK/x" libbar
echo "PASS"

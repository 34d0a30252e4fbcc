#!/usr/bin/env bash
# Bad input to sysext-build pack: each case must print `sysext-build: error:`
# naming the path and the cause, exit with the documented code (2 usage, 3 bad
# input, 5 I/O), leave no file under the output name (nor a temporary one), and
# leave an existing output file untouched.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool python3 setpriv mknod tar zstd gzip

outdir=$WORK/outdir
run_as=()   # a command prefix, e.g. setpriv ... to run as an unprivileged user

# bad_pack "CODES" "TEXT" "CAUSE-REGEX" ARGS...: runs `pack ARGS -o OUT` twice,
# without and with an existing OUT. The exit code must be one of CODES; stderr
# must hold `sysext-build: error:` lines (progress lines may come first, at most
# 20 error lines: one per problem, not one per byte of a damaged archive) that
# contain every line of TEXT and match CAUSE-REGEX (case-insensitive).
bad_pack() {
    local codes=$1 texts=$2 cause=$3
    shift 3
    local attempt err rc errors
    for attempt in fresh existing; do
        rm -rf "$outdir"
        mkdir "$outdir"
        [ "${#run_as[@]}" -eq 0 ] || chown nobody: "$outdir"
        [ "$attempt" = fresh ] || echo "precious old image" >"$outdir/e2e.raw"
        rc=0
        err=$("${run_as[@]}" "$SYSEXT_BUILD" pack "$@" -o "$outdir/e2e.raw" 2>&1 >/dev/null) || rc=$?
        case " $codes " in
        *" $rc "*) ;;
        *) fail "pack $*: exit code $rc, want one of $codes; stderr: $(head -c 2000 <<<"$err")" ;;
        esac
        errors=$(grep '^sysext-build: error: ' <<<"$err" || true)
        [ -n "$errors" ] || fail "pack $*: no 'sysext-build: error: ' line on stderr: $(head -c 2000 <<<"$err")"
        [ "$(wc -l <<<"$errors")" -le 20 ] ||
            fail "pack $*: $(wc -l <<<"$errors") error lines; the first: $(head -n 3 <<<"$errors")"
        local text
        while IFS= read -r text; do
            case $errors in
            *"$text"*) ;;
            *) fail "pack $*: error does not name '$text': $errors" ;;
            esac
        done <<<"$texts"
        grep -Eqi -- "$cause" <<<"$errors" || fail "pack $*: error does not give the cause /$cause/: $errors"
        if [ "$attempt" = fresh ]; then
            [ -z "$(ls -A "$outdir")" ] || fail "pack $*: left files behind: $(ls -A "$outdir")"
        else
            [ "$(ls -A "$outdir")" = e2e.raw ] || fail "pack $*: left files behind: $(ls -A "$outdir")"
            [ "$(cat "$outdir/e2e.raw")" = "precious old image" ] || fail "pack $*: existing output overwritten"
        fi
    done
    echo "ok ($rc): $(head -n 1 <<<"$errors")"
}

# A small valid tree; each case below spoils a copy of it.
good=$WORK/good
mkdir -p "$good/usr/bin" "$good/usr/share/e2e"
cp "$(hello_binary)" "$good/usr/bin/hello"
echo text >"$good/usr/share/e2e/text"
spoiled() { rm -rf "${WORK:?}/$1"; cp -a "$good" "$WORK/$1"; echo "$WORK/$1"; }
release=(--os-id _any)

step "the valid tree packs (the cases below fail for their own reason)"
"$SYSEXT_BUILD" pack "$good" -o "$(image_path good)" --name e2e "${release[@]}"

step "usage errors"
bad_pack "2" "99" "zstd.*level|level.*zstd" "$good" --name e2e "${release[@]}" --compression zstd:99
bad_pack "2" "brotli" "compress" "$good" --name e2e "${release[@]}" --compression brotli
bad_pack "2" "--no-such-flag" "no-such-flag" "$good" --name e2e "${release[@]}" --no-such-flag
bad_pack "2 3" "x86_64" "architecture" "$good" --name e2e "${release[@]}" --arch x86_64

step "usage errors the command line parser finds: missing -o, missing SOURCE"
# bad_pack always passes -o; these two cases cannot, so they are checked here.
for args in "$good --name e2e" "--name e2e -o $WORK/images/x/e2e.raw"; do
    rc=0
    # shellcheck disable=SC2086
    err=$("$SYSEXT_BUILD" pack $args 2>&1 >/dev/null) || rc=$?
    [ "$rc" = 2 ] || fail "pack $args: exit code $rc, want 2 (usage); stderr: $err"
    case $err in
    "sysext-build: error: "*) ;;
    *) fail "pack $args: stderr does not start with 'sysext-build: error: ': $err" ;;
    esac
    echo "ok ($rc): $err"
done

step "missing source"
bad_pack "3 5" "$WORK/missing-source" "no such file|not found|does not exist" "$WORK/missing-source" --name e2e "${release[@]}"

step "validation: forbidden top-level entries, os-release, release file name, devices"
t=$(spoiled toplevel)
mkdir -p "$t/etc/containers" "$t/var/lib"
echo x >"$t/etc/containers/policy.json"
echo readme >"$t/README"
bad_pack "3" "etc"$'\n'"var"$'\n'"README" "usr/ and opt/|usr and opt|top-level|top level" "$t" --name e2e "${release[@]}"
t=$(spoiled osrelease)
mkdir -p "$t/usr/lib"
echo ID=debian >"$t/usr/lib/os-release"
bad_pack "3" "usr/lib/os-release" "os-release" "$t" --name e2e "${release[@]}"
t=$(spoiled misnamed)
mkdir -p "$t/usr/lib/extension-release.d"
echo ID=_any >"$t/usr/lib/extension-release.d/extension-release.other"
bad_pack "3" "extension-release.other" "e2e" "$t" --name e2e
t=$(spoiled unreleased)
bad_pack "3" "extension-release.e2e" "missing|no |lacks|not found|--os-id" "$t" --name e2e
t=$(spoiled chardev)
mknod "$t/usr/share/e2e/null" c 1 3
bad_pack "3" "usr/share/e2e/null" "device" "$t" --name e2e "${release[@]}"
t=$(spoiled everything)
mkdir "$t/etc"
mkdir -p "$t/usr/lib"
echo ID=debian >"$t/usr/lib/os-release"
mknod "$t/usr/share/e2e/loop" b 7 0
bad_pack "2 3" "etc"$'\n'"usr/lib/os-release"$'\n'"usr/share/e2e/loop"$'\n'"bogus-arch" "device" \
    "$t" --name e2e "${release[@]}" --arch bogus-arch

step "a name over 255 bytes (only an archive can carry one)"
long=$(printf 'x%.0s' {1..256})
python3 - "$WORK/long.tar" "$long" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tar:
    for name, data in (("usr/share/e2e/ok", b"ok\n"), ("usr/share/e2e/" + sys.argv[2], b"long\n")):
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o644, 0
        tar.addfile(info, io.BytesIO(data))
    info = tarfile.TarInfo("usr/lib/extension-release.d/extension-release.e2e")
    info.size = 7
    tar.addfile(info, io.BytesIO(b"ID=_any"))
EOF
bad_pack "3" "${long:0:64}" "255|too long|long" "$WORK/long.tar" --name e2e

step "unreadable file, directory and archive (as an unprivileged user)"
chmod 0755 "$WORK"
t=$(spoiled unreadable)
echo secret >"$t/usr/share/e2e/secret"
chmod 0000 "$t/usr/share/e2e/secret"
mkdir "$t/usr/share/locked"
echo x >"$t/usr/share/locked/inside"
chown -R nobody: "$t"
run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
"${run_as[@]}" cat "$t/usr/share/e2e/secret" 2>/dev/null && fail "nobody can read the unreadable file"
bad_pack "3 5" "usr/share/e2e/secret" "permission denied" "$t" --name e2e "${release[@]}"
chmod 0644 "$t/usr/share/e2e/secret"
chmod 0000 "$t/usr/share/locked"
bad_pack "3 5" "usr/share/locked" "permission denied" "$t" --name e2e "${release[@]}"
tar -C "$good" -cf "$WORK/secret.tar" .
chmod 0000 "$WORK/secret.tar"
bad_pack "3 5" "$WORK/secret.tar" "permission denied" "$WORK/secret.tar" --name e2e "${release[@]}"
run_as=()

step "output directory that does not exist"
rc=0
err=$("$SYSEXT_BUILD" pack "$good" --name e2e "${release[@]}" -o "$WORK/no/such/dir/e2e.raw" 2>&1) || rc=$?
[ "$rc" = 5 ] || fail "output into a missing directory: exit $rc, want 5: $err"
case $err in *"$WORK/no/such/dir"*) ;; *) fail "error does not name the output path: $err" ;; esac

step "truncated and corrupt archives"
big=$WORK/big
cp -a "$good" "$big"
# Fixed content, so that the damage below hits the same bytes every run.
python3 -c "import random, sys; sys.stdout.buffer.write(random.Random(7).randbytes(3000000))" >"$big/usr/share/e2e/blob"
for i in $(seq 1 40); do echo "file $i" >"$big/usr/share/e2e/f$i"; done
tar -C "$big" --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner -cf "$WORK/big.tar" .
zstd -q -c "$WORK/big.tar" >"$WORK/big.tar.zst"
gzip -n -c "$WORK/big.tar" >"$WORK/big.tar.gz"
for a in big.tar big.tar.zst big.tar.gz; do
    size=$(stat -c %s "$WORK/$a")
    head -c $((size / 2)) "$WORK/$a" >"$WORK/half-$a"
    bad_pack "3 5" "$WORK/half-$a" "truncat|unexpected end|premature|end of" \
        "$WORK/half-$a" --name e2e "${release[@]}"
done
# A tar whose member header is damaged midway (its checksum no longer matches).
python3 - "$WORK/big.tar" "$WORK/bad-header.tar" <<'EOF'
import sys, tarfile
members = tarfile.open(sys.argv[1]).getmembers()
victim = members[len(members) // 2]
data = bytearray(open(sys.argv[1], "rb").read())
data[victim.offset:victim.offset + 8] = b"DAMAGED!"
open(sys.argv[2], "wb").write(data)
EOF
bad_pack "3 5" "$WORK/bad-header.tar" "damaged|corrupt|checksum|invalid" "$WORK/bad-header.tar" --name e2e "${release[@]}"
# Compressed streams with bytes flipped: zstd checks its frame checksum (libarchive
# reports the failure as a truncation); a gzip stream is damaged near its start,
# where the deflate data of the tar headers is. (libarchive does not check the
# gzip CRC, so damage inside stored random data would go unnoticed.)
python3 - "$WORK/big.tar.zst" "$WORK/flipped.tar.zst" "$WORK/big.tar.gz" "$WORK/flipped.tar.gz" <<'EOF'
import sys
for src, dst, start in ((sys.argv[1], sys.argv[2], None), (sys.argv[3], sys.argv[4], 200)):
    data = bytearray(open(src, "rb").read())
    at = len(data) // 2 if start is None else start
    for i in range(at, at + 64):
        data[i] ^= 0x5a
    open(dst, "wb").write(data)
EOF
bad_pack "3 5" "$WORK/flipped.tar.zst" "corrupt|damaged|invalid|checksum|decompress|truncat" \
    "$WORK/flipped.tar.zst" --name e2e "${release[@]}"
bad_pack "3 5" "$WORK/flipped.tar.gz" "corrupt|damaged|invalid|crc|checksum|decompress" \
    "$WORK/flipped.tar.gz" --name e2e "${release[@]}"
head -c 100000 /dev/urandom >"$WORK/noise.tar"
bad_pack "3" "$WORK/noise.tar" "unrecogni|not an archive|format|damaged" "$WORK/noise.tar" --name e2e "${release[@]}"
echo "PASS"

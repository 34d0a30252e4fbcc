#!/usr/bin/env bash
# Hostile archives to `sysext-build pack`: a fixed, seeded set of damaged tar
# (ustar, GNU, pax, sparse; plain, gzip, xz, zstd), cpio, zip and .deb inputs,
# generated here by python3 (tarfile, zipfile), GNU tar and zstd. Each case must
# either pack an image that unsquashfs reads, or fail with exit code 3 and
# `sysext-build: error:` lines naming the archive, leaving the output directory
# and TMPDIR empty. Any other exit code (a crash, a signal, an internal error),
# a hang (timeout) or a leftover file fails the test. FUZZ_CASES and FUZZ_SEED
# change the set (the default runs in well under a minute).
source "$(dirname "$0")/lib/common.sh"
require_tool python3 tar zstd unsquashfs timeout

cases=${FUZZ_CASES:-160}
seed=${FUZZ_SEED:-20261129}
mkdir -p "$WORK/cases" "$WORK/tar-root"

step "generating $cases archives from seed $seed"
python3 -W ignore - "$WORK/cases" "$cases" "$seed" "$WORK/tar-root" >"$WORK/cases.txt" <<'PY'
import gzip, io, lzma, os, random, re, subprocess, sys, tarfile, zipfile

out, count, seed, tar_root = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

NAMES = ["usr/a", "usr/b", "usr/bin/x", "usr/share/d", "usr/share/d/f", "..", "../x", "/usr/abs",
         "usr/../../x", "usr/./c", "usr//d", "", ".", "usr", "usr/" + "n" * 300, "usr/a/b",
         "usr/lib/extension-release.d/extension-release.e2e", "etc/x", "usr/bin"]
PAX_KEYS = ["size", "path", "linkpath", "uid", "mtime", "GNU.sparse.major", "GNU.sparse.minor",
            "GNU.sparse.name", "GNU.sparse.realsize", "GNU.sparse.size", "GNU.sparse.map",
            "GNU.sparse.numblocks", "GNU.sparse.offset", "GNU.sparse.numbytes",
            "SCHILY.xattr.user.k", "LIBARCHIVE.xattr.user.k", "hdrcharset", "SCHILY.realsize"]
PAX_VALUES = ["0", "1", "-1", "99999999999999999999", "9223372036854775807", "1.0", "0,0",
              "0,10,20,5", "", "..", "/etc/x", "usr/a", "x" * 2000, "BINARY", "512", "-5,3", "abc"]


def hostile_tar(r, fmt):
    buf = io.BytesIO()
    t = tarfile.open(fileobj=buf, mode="w", format=fmt)
    names = []
    for _ in range(r.randrange(1, 8)):
        name = r.choice(NAMES[:5]) if r.random() < 0.6 else r.choice(NAMES)
        ti, data = tarfile.TarInfo(name), b""
        kind = r.choice("ffffddslhpc")
        if kind == "f":
            data = r.randbytes(r.choice([0, 1, 511, 512, 513, 3000, 70000]))
        elif kind == "d":
            ti.type = tarfile.DIRTYPE
        elif kind == "s":
            ti.type, ti.linkname = tarfile.SYMTYPE, r.choice(["x", "../../etc", "", "a" * 5000])
        elif kind == "l":
            ti.type = tarfile.LNKTYPE
            ti.linkname = r.choice(names + ["missing", "usr", "..", "/usr/a", name])
            data = r.randbytes(600) if r.random() < 0.3 else b""
        elif kind == "p":
            ti.type = tarfile.FIFOTYPE
        else:
            ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
        ti.size, ti.mode = len(data), r.choice([0o644, 0o7777, 0])
        if fmt == tarfile.PAX_FORMAT and r.random() < 0.6:
            ti.pax_headers = {r.choice(PAX_KEYS): r.choice(PAX_VALUES) for _ in range(r.randrange(1, 4))}
        try:
            t.addfile(ti, io.BytesIO(data) if data else None)
            names.append(name)
        except Exception:
            pass
    t.close()
    return bytearray(buf.getvalue())


def valid_tar(r, fmt):
    buf = io.BytesIO()
    t = tarfile.open(fileobj=buf, mode="w", format=fmt)
    files = []
    for i in r.sample(range(20), r.randrange(2, 9)):
        ti = tarfile.TarInfo("usr/f%02d" % i)
        if files and r.random() < 0.2:
            ti.type, ti.linkname = tarfile.LNKTYPE, r.choice(files)
            t.addfile(ti)
            continue
        data = r.randbytes(r.choice([0, 1, 511, 512, 513, 4097, 131072, 200000]))
        ti.size, ti.mode = len(data), 0o644
        if fmt == tarfile.PAX_FORMAT and r.random() < 0.3:
            ti.pax_headers = {"size": str(max(0, len(data) + r.choice([-1, 1, -512, 512, 10**6])))}
        t.addfile(ti, io.BytesIO(data))
        files.append(ti.name)
    t.close()
    return bytearray(buf.getvalue())


def sparse_tar(r):
    subprocess.run(["rm", "-rf", tar_root + "/usr"], check=True)
    os.makedirs(tar_root + "/usr")
    with open(tar_root + "/usr/s", "wb") as f:
        f.truncate(r.choice([4096, 1 << 20]))
        for _ in range(r.randrange(1, 5)):
            f.seek(r.randrange(1 << 19))
            f.write(r.randbytes(r.randrange(1, 5000)))
    with open(tar_root + "/usr/a", "wb") as f:
        f.write(r.randbytes(3000))
    fmt = r.choice(["gnu", "oldgnu", "posix"])
    args = ["tar", "-C", tar_root, "--sparse", "--owner=0", "--group=0", "--numeric-owner",
            "--mtime=@0", "--sort=name", "--format=" + fmt, "-cf", "-", "usr"]
    if fmt == "posix":  # no PID, atime or ctime in the pax headers: the same bytes every run
        args[4:4] = ["--sparse-version=" + r.choice(["0.0", "0.1", "1.0"]),
                     "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime"]
    b = bytearray(subprocess.run(args, stdout=subprocess.PIPE, check=True).stdout)
    # The same bytes every run: GNU headers keep atime and ctime, and a pax
    # sparse file's stand-in name holds tar's PID.
    for at in range(0, len(b) - 511, 512):
        if b[at + 257:at + 262] != b"ustar":
            continue
        if b[at + 257:at + 265] == b"ustar  \0":
            b[at + 345:at + 369] = b"\0" * 24
        b[at:at + 100] = re.sub(rb"GNUSparseFile\.[0-9]+", b"GNUSparseFile.0", bytes(b[at:at + 100])).ljust(100, b"\0")
        fix_checksum(b, at)
    return b


def fix_checksum(b, at):
    block = b[at:at + 512]
    block[148:156] = b" " * 8
    b[at + 148:at + 156] = ("%06o\0 " % sum(block)).encode()


def damage_tar_header(r, b):
    headers = [o for o in range(0, len(b) - 511, 512) if b[o + 257:o + 262] == b"ustar"]
    if not headers:
        return b
    at = r.choice(headers)
    field = r.randrange(5)
    if field == 0:  # size: off by a little or a lot, octal or base-256
        b[at + 124:at + 136] = r.choice([b"77777777777\0", b"00000000000\0", b"00000001001\0",
                                         b"\x80" + b"\xff" * 11, b"\xff" * 12,
                                         b"\x80\0\0\0\0\0\0\0\x7f\xff\xff\xff"])
    elif field == 1:  # type
        b[at + 156] = r.choice(b"0123456789LKxgSZ\0")
    elif field == 2:  # link name
        b[at + 157:at + 257] = r.choice([b"missing", b"..", b"usr", b"usr/a"]).ljust(100, b"\0")
    elif field == 3:  # GNU sparse map and real size
        off = r.choice([386, 398, 483])
        b[at + off:at + off + 12] = r.choice([b"77777777777\0", b"00000010000\0", b"\x80" + b"\xff" * 11])
    else:  # name
        b[at:at + 100] = r.choice([b"..", b"/abs", b"usr", b"", b"usr/a/b"]).ljust(100, b"\0")
    if r.random() < 0.85:
        fix_checksum(b, at)
    return b


def damage_bytes(r, b):
    if not b:
        return b
    op = r.randrange(5)
    i = r.randrange(len(b))
    if op == 0:
        for _ in range(r.randrange(1, 9)):
            j = r.randrange(len(b))
            b[j] ^= 1 << r.randrange(8)
    elif op == 1:
        b[i:i] = r.randbytes(r.randrange(1, 700))
    elif op == 2:
        del b[i:i + r.randrange(1, 700)]
    elif op == 3:
        del b[i - i % 512 if r.random() < 0.5 else i:]
    else:
        b[i:i + 4] = r.choice([b"\xff\xff\xff\xff", b"\0\0\0\0", b"\x7f\xff\xff\xff"])
    return b


def newc(r):
    data = bytearray()
    for ino, (name, body) in enumerate([("usr", None), ("usr/a", r.randbytes(700)),
                                        ("usr/b", r.randbytes(3)), ("TRAILER!!!", b"")]):
        mode = 0o40755 if body is None else 0o100644
        body = body or b""
        fields = [ino + 1, mode, 0, 0, 1, 0, len(body), 0, 0, 0, 0, len(name) + 1, 0]
        head = b"070701" + b"".join(b"%08X" % v for v in fields) + name.encode() + b"\0"
        data += head + b"\0" * (-len(head) % 4) + body + b"\0" * (-len(body) % 4)
    at = [m.start() for m in re.finditer(rb"070701", bytes(data))]
    o = r.choice(at) + r.choice([54, 94, 38, 6])
    data[o:o + 8] = r.choice([b"FFFFFFFF", b"00000000", b"7FFFFFFF", b"00010000", b"00000001"])
    return data


def damaged_zip(r):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(r.randrange(1, 5)):
            info = zipfile.ZipInfo(r.choice(NAMES[:5] + ["usr/z%d" % i, "../z", "/abs"]))
            info.compress_type = r.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
            info.external_attr = r.choice([0o100644, 0o120777, 0o40755, 0o20644]) << 16
            try:
                z.writestr(info, r.randbytes(r.choice([0, 5, 3000, 70000])))
            except Exception:
                pass
    b = bytearray(buf.getvalue())
    heads = [m.start() for m in re.finditer(rb"PK\x01\x02|PK\x03\x04", bytes(b))]
    if heads and r.random() < 0.6:
        o = r.choice(heads) + r.choice([14, 18, 22, 26, 28, 42])
        b[o:o + 4] = r.choice([b"\xff\xff\xff\xff", b"\0\0\0\0", b"\x00\x10\x00\x00"])
    else:
        b = damage_bytes(r, b)
    return b


def ar_member(name, data):
    head = b"%-16s%-12s%-6s%-6s%-8s%-10d`\n" % (name.encode(), b"0", b"0", b"0", b"100644", len(data))
    return head + data + (b"\n" if len(data) % 2 else b"")


def compress(kind, b):
    if kind == "gz":
        return gzip.compress(bytes(b), mtime=0)
    if kind == "xz":
        return lzma.compress(bytes(b))
    if kind == "zst":
        return subprocess.run(["zstd", "-q", "-c"], input=bytes(b), stdout=subprocess.PIPE,
                              check=True).stdout
    return bytes(b)


# Two fixed cases first, each once a defect: a pax sparse map whose block lies
# at ~100 GB while the real size says 8 KiB (pack hung, build filled the disk
# with zeros), and an entry below a file (the error named neither archive nor entry).
records = (b"22 GNU.sparse.major=1\n22 GNU.sparse.minor=0\n25 GNU.sparse.name=usr/s\n"
           b"28 GNU.sparse.realsize=8192\n")
sparse_data = b"1\n99999999999\n512\n".ljust(512, b"\0") + b"D" * 512
fixed = {"fixed-sparse-overrun.tar": [("usr/PaxHeaders/s", b"x", records),
                                      ("usr/GNUSparseFile.0/s", b"0", sparse_data)],
         "fixed-below-file.tar": [("usr/f", b"0", b"file"), ("usr/f/below", b"0", b"x")]}
for name, members in fixed.items():
    b = bytearray()
    for path, kind, body in members:
        head = bytearray(512)
        head[0:len(path)] = path.encode()
        head[100:108], head[108:116], head[116:124] = b"0000644\0", b"0000000\0", b"0000000\0"
        head[124:136], head[136:148] = b"%011o\0" % len(body), b"00000000000\0"
        head[156:157], head[257:265] = kind, b"ustar\x0000"
        fix_checksum(head, 0)
        b += head + body + b"\0" * (-len(body) % 512)
    with open(os.path.join(out, name), "wb") as f:
        f.write(b + b"\0" * 1024)
    print(name)

for n in range(count):
    r = random.Random(seed * 1000003 + n)
    kind = r.choice(["hostile", "hostile", "valid", "valid", "sparse", "cpio", "zip", "deb"])
    comp = r.choice(["", "", "gz", "xz", "zst"]) if kind in ("hostile", "valid", "sparse") else ""
    if kind == "hostile":
        b = hostile_tar(r, r.choice([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]))
    elif kind == "valid":
        b = valid_tar(r, r.choice([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]))
    elif kind == "sparse":
        b = sparse_tar(r)
    elif kind == "cpio":
        b = newc(r)
    elif kind == "zip":
        b = damaged_zip(r)
    else:
        inner = hostile_tar(r, tarfile.PAX_FORMAT) if r.random() < 0.5 else valid_tar(r, tarfile.PAX_FORMAT)
        member = r.choice(["", "gz", "xz", "zst"])
        b = bytearray(b"!<arch>\n" + ar_member("debian-binary", b"2.0\n") +
                      ar_member("control.tar.gz", gzip.compress(b"\0" * 1024, mtime=0)) +
                      ar_member("data.tar" + ("." + member if member else ""),
                                compress(member, damage_tar_header(r, inner))))
    if kind in ("hostile", "valid", "sparse") and r.random() < 0.6:
        b = damage_tar_header(r, b)
    elif kind != "cpio" and r.random() < 0.7:
        b = damage_bytes(r, b)
    name = "case%03d-%s%s" % (n, kind, "." + comp if comp else "")
    with open(os.path.join(out, name), "wb") as f:
        f.write(compress(comp, b))
    print(name)
PY

step "packing each case"
packed=0 refused=0
while IFS= read -r name; do
    case_file=$WORK/cases/$name
    out=$WORK/out
    rm -rf "$out" "$WORK/tmp"
    mkdir "$out" "$WORK/tmp"
    rc=0
    err=$(TMPDIR=$WORK/tmp timeout 30 "$SYSEXT_BUILD" pack "$case_file" -o "$out/e2e.raw" --name e2e \
        --os-id _any --no-cache --compression lz4 2>&1 >/dev/null) || rc=$?
    leftover=$(ls -A "$WORK/tmp")
    [ -z "$leftover" ] || fail "$name: left $leftover in TMPDIR"
    case $rc in
    0)
        [ "$(ls -A "$out")" = e2e.raw ] || fail "$name: packed, but the output directory holds $(ls -A "$out")"
        unsquashfs -lln "$out/e2e.raw" >/dev/null || fail "$name: unsquashfs cannot read the image"
        packed=$((packed + 1))
        ;;
    3)
        [ -z "$(ls -A "$out")" ] || fail "$name: refused, but left $(ls -A "$out")"
        errors=$(grep -a '^sysext-build: error: ' <<<"$err" || true)
        [ -n "$errors" ] || fail "$name: exit 3 without an error line: $err"
        # Every problem the archive reader finds names the archive; the
        # validator's findings (devices, top-level entries) name the tree path.
        grep -aqF "$case_file" <<<"$errors" ||
            grep -aEq 'device nodes|merged by systemd-sysext|empty target|os-release|extension-release' <<<"$errors" ||
            fail "$name: no error names the archive: $errors"
        refused=$((refused + 1))
        ;;
    *)
        fail "$name: exit code $rc (want 0 or 3): $(head -c 3000 <<<"$err")"
        ;;
    esac
done <"$WORK/cases.txt"
echo "packed $packed, refused $refused of $((cases + 2))"
[ "$packed" -gt 0 ] && [ "$refused" -gt 0 ] || fail "the cases are not mixed: packed $packed, refused $refused"
echo "PASS"

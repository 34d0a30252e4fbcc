#!/usr/bin/env python3
"""Extracts the uncompressed kernel (an ELF vmlinux) from a bzImage.

The method of the kernel's scripts/extract-vmlinux: look for the magic bytes
of each compressor the kernel may use, try to decompress from every place one
occurs, and keep the first result that is an ELF file. QEMU boots such a
vmlinux directly through its PVH entry point.

Usage: extract-vmlinux.py BZIMAGE OUT
"""
import bz2
import lzma
import os
import subprocess
import sys
import zlib

ELF = b"\x7fELF"


def gzip_at(data, off):
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[off:])


def xz_at(data, off):
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[off:])


def lzma_at(data, off):
    return lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(data[off:])


def bzip2_at(data, off):
    return bz2.BZ2Decompressor().decompress(data[off:])


def tool_at(cmd):
    # Like extract-vmlinux, ignore the complaint about the bytes after the
    # stream and judge the output.
    def run(data, off):
        return subprocess.run(cmd, input=data[off:], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, check=False).stdout
    return run


FORMATS = [
    (b"\x1f\x8b\x08", gzip_at),
    (b"\xfd7zXZ\x00", xz_at),
    (b"BZh", bzip2_at),
    (b"\x5d\x00\x00\x00", lzma_at),
    (b"\x28\xb5\x2f\xfd", tool_at(["zstd", "-dcq"])),
    (b"\x02\x21\x4c\x18", tool_at(["lz4", "-dcq"])),
    (b"\x89LZO", tool_at(["lzop", "-dcq"])),
]


def extract(data):
    for magic, decompress in FORMATS:
        off = data.find(magic)
        while off >= 0:
            try:
                out = decompress(data, off)
            except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error, FileNotFoundError):
                out = b""
            if out.startswith(ELF):
                return out
            off = data.find(magic, off + 1)
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: extract-vmlinux.py BZIMAGE OUT")
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, "rb") as f:
        data = f.read()
    if data.startswith(ELF):
        out = data
    else:
        out = extract(data)
    if out is None:
        sys.exit(f"extract-vmlinux.py: no compressed ELF kernel found in {src}")
    tmp = dst + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, dst)


if __name__ == "__main__":
    main()

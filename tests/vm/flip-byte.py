#!/usr/bin/env python3
"""Flips one byte of a signed extension image, in the part named, in place.

Usage: flip-byte.py data|tree|sig IMAGE.raw

IMAGE.raw is either a bare image signed with sidecars (IMAGE.verity,
IMAGE.roothash.p7s next to it) or a signed GPT disk image (sign --ddi) with a
data, a -verity and a -verity-sig partition (found with sfdisk --json).

  data  the last byte of the file system area: padding or table bytes that the
        kernel reads when it mounts the image, so only dm-verity can notice
  tree  the last byte of the dm-verity tree's top hash block (after the
        superblock): padding no tool reads, but the block's hash is the root
        hash, so every read through dm-verity fails
  sig   the last byte of the PKCS#7 signature (in the disk image: of the
        base64-decoded "signature" in the JSON, re-encoded to the same length)

Prints what it flipped. Exits non-zero if the layout is not what it expects.
"""
import base64
import json
import os
import subprocess
import sys


def flip_at(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        if len(b) != 1:
            sys.exit(f"flip-byte.py: {path} has no byte at {offset}")
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))
    print(f"flipped byte {offset} of {path} ({b[0]:#04x} -> {b[0] ^ 0xFF:#04x})")


def top_hash_block_end(f, start, size):
    """Offset of the last byte of the top hash block of a verity area."""
    f.seek(start)
    head = f.read(8)
    hash_start = start + 4096 if head == b"verity\0\0" else start
    if hash_start + 4096 > start + size:
        sys.exit("flip-byte.py: verity area smaller than one hash block")
    return hash_start + 4095


def partitions(image):
    out = subprocess.run(["sfdisk", "--json", image], check=True, stdout=subprocess.PIPE).stdout
    table = json.loads(out)["partitiontable"]
    sector = table.get("sectorsize", 512)
    parts = {}
    for p in table["partitions"]:
        name = p.get("name", "")
        kind = "sig" if name.endswith("-verity-sig") else "tree" if name.endswith("-verity") else "data"
        if kind in parts:
            sys.exit(f"flip-byte.py: two {kind} partitions in {image}")
        parts[kind] = (p["start"] * sector, p["size"] * sector)
    if set(parts) != {"data", "tree", "sig"}:
        sys.exit(f"flip-byte.py: {image} lacks a data, verity or signature partition: {sorted(parts)}")
    return parts


def flip_json_signature(path, start, size):
    with open(path, "r+b") as f:
        f.seek(start)
        raw = f.read(size)
        text = raw.rstrip(b"\0")
        doc = json.loads(text)
        old = doc["signature"].encode()
        der = bytearray(base64.b64decode(old))
        der[-1] ^= 0xFF
        new = base64.b64encode(bytes(der))
        if len(new) != len(old) or text.count(old) != 1:
            sys.exit("flip-byte.py: cannot re-encode the signature in place")
        pos = text.index(old)
        f.seek(start + pos)
        f.write(new)
    print(f"flipped the last byte of the PKCS#7 signature in the signature partition of {path}")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("data", "tree", "sig"):
        sys.exit("usage: flip-byte.py data|tree|sig IMAGE.raw")
    what, image = sys.argv[1], sys.argv[2]
    base = image[:-4] if image.endswith(".raw") else image
    if os.path.exists(base + ".verity"):
        if what == "data":
            flip_at(image, os.path.getsize(image) - 1)
        elif what == "tree":
            tree = base + ".verity"
            with open(tree, "rb") as f:
                off = top_hash_block_end(f, 0, os.path.getsize(tree))
            flip_at(tree, off)
        else:
            sig = base + ".roothash.p7s"
            flip_at(sig, os.path.getsize(sig) - 1)
        return
    parts = partitions(image)
    start, size = parts[{"data": "data", "tree": "tree", "sig": "sig"}[what]]
    if what == "data":
        flip_at(image, start + size - 1)
    elif what == "tree":
        with open(image, "rb") as f:
            off = top_hash_block_end(f, start, size)
        flip_at(image, off)
    else:
        flip_json_signature(image, start, size)


if __name__ == "__main__":
    main()

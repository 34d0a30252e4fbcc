#!/usr/bin/python3
"""An independent reader of Flatcar update payloads ("CrAU"), for tests.

It shares no code with sysext-build: the protobuf schema is declared here from
the format description (shared/specs/flatcar-payload.md, update_engine's
update_metadata.proto field numbers), messages are parsed with Debian's
python3-protobuf, hashes come from hashlib, bzip2 from the bz2 module, and
signatures are checked by the `openssl` command.

  payload_reader.py verify PAYLOAD --pubkey PUB [--pubkey PUB2] [--out IMAGE]
  payload_reader.py signed-hash PAYLOAD
  payload_reader.py mutate PAYLOAD OUT --field FIELD --add N
  payload_reader.py flatcar-generate IMAGE OUT --key KEY [--key KEY2] [--last-extent-blocks N]

flatcar-generate writes a full payload laid out as Flatcar's own tools lay it
out (update_engine's delta_generator: full_update_generator.cc cuts the image
into 1 MiB chunks and declares every dst extent a whole chunk, the last,
partial one too; payload_signer.cc reserves the signature blob and numbers the
signatures up to 2), and signs it with `openssl pkeyutl` as core_sign_update
does.
"""
import argparse
import bz2
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2, descriptor_pool

try:
    from google.protobuf import message_factory

    def message_class(desc):
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(desc)
        return message_factory.MessageFactory(desc.file.pool).GetPrototype(desc)
except ImportError:  # pragma: no cover
    raise

OPT, REP, REQ = (descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
                 descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
                 descriptor_pb2.FieldDescriptorProto.LABEL_REQUIRED)
T = descriptor_pb2.FieldDescriptorProto
U32, U64, BYTES, MSG, ENUM = (T.TYPE_UINT32, T.TYPE_UINT64, T.TYPE_BYTES,
                              T.TYPE_MESSAGE, T.TYPE_ENUM)
PKG = "chromeos_update_engine"


def build_schema():
    """Declares the payload messages by field number, as the format defines them."""
    f = descriptor_pb2.FileDescriptorProto(name="crau_reader.proto", package=PKG,
                                           syntax="proto2")

    def message(name, fields, parent=None):
        m = (parent.nested_type if parent else f.message_type).add(name=name)
        for fname, number, label, ftype, type_name in fields:
            fd = m.field.add(name=fname, number=number, label=label, type=ftype)
            if type_name:
                fd.type_name = type_name
        return m

    message("Extent", [("start_block", 1, OPT, U64, None), ("num_blocks", 2, OPT, U64, None)])
    sigs = message("Signatures", [("signatures", 1, REP, MSG, f".{PKG}.Signatures.Signature")])
    message("Signature", [("version", 1, OPT, U32, None), ("data", 2, OPT, BYTES, None)], sigs)
    message("InstallInfo", [("size", 1, OPT, U64, None), ("hash", 2, OPT, BYTES, None)])
    op = message("InstallOperation", [
        ("type", 1, REQ, ENUM, f".{PKG}.InstallOperation.Type"),
        ("data_offset", 2, OPT, U32, None), ("data_length", 3, OPT, U32, None),
        ("src_extents", 4, REP, MSG, f".{PKG}.Extent"), ("src_length", 5, OPT, U64, None),
        ("dst_extents", 6, REP, MSG, f".{PKG}.Extent"), ("dst_length", 7, OPT, U64, None),
        ("data_sha256_hash", 8, OPT, BYTES, None)])
    e = op.enum_type.add(name="Type")
    for i, n in enumerate(["REPLACE", "REPLACE_BZ", "MOVE", "BSDIFF"]):
        e.value.add(name=n, number=i)
    message("DeltaArchiveManifest", [
        ("partition_operations", 1, REP, MSG, f".{PKG}.InstallOperation"),
        ("noop_operations", 2, REP, MSG, f".{PKG}.InstallOperation"),
        ("block_size", 3, OPT, U32, None),
        ("signatures_offset", 4, OPT, U64, None), ("signatures_size", 5, OPT, U64, None),
        ("old_partition_info", 8, OPT, MSG, f".{PKG}.InstallInfo"),
        ("new_partition_info", 9, OPT, MSG, f".{PKG}.InstallInfo")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    get = lambda n: message_class(pool.FindMessageTypeByName(f"{PKG}.{n}"))
    return get("DeltaArchiveManifest"), get("Signatures")


Manifest, Signatures = build_schema()


class Bad(Exception):
    pass


MiB = 1024 * 1024


def read_payload(path):
    data = open(path, "rb").read()
    if len(data) < 20:
        raise Bad("shorter than the header")
    if data[:4] != b"CrAU":
        raise Bad("bad magic")
    version, msize = struct.unpack(">QQ", data[4:20])
    if version != 1:
        raise Bad(f"version {version}")
    if 20 + msize > len(data):
        raise Bad("manifest past end of file")
    m = Manifest()
    m.ParseFromString(data[20:20 + msize])
    return data, m, 20 + msize


def verify(args):
    data, m, blobs = read_payload(args.payload)
    bs = m.block_size if m.HasField("block_size") else 4096
    if not (m.HasField("signatures_offset") and m.HasField("signatures_size")):
        raise Bad("no signature area")
    sig_start = blobs + m.signatures_offset
    if sig_start + m.signatures_size != len(data):
        raise Bad(f"signatures do not end the file ({sig_start}+{m.signatures_size} != {len(data)})")
    # The dummy operation older clients need.
    if len(m.noop_operations) != 1:
        raise Bad("expected one noop operation")
    noop = m.noop_operations[0]
    if (noop.type != 0 or noop.data_offset != m.signatures_offset
            or noop.data_length != m.signatures_size or len(noop.dst_extents) != 1
            or noop.dst_extents[0].start_block != 2**64 - 1
            or noop.dst_extents[0].num_blocks != (m.signatures_size + bs - 1) // bs):
        raise Bad("bad dummy signature operation")
    sigs = Signatures()
    sigs.ParseFromString(data[sig_start:])
    n = len(sigs.signatures)
    versions = [s.version for s in sigs.signatures]
    if versions != list(range(3 - n, 3)):
        raise Bad(f"signature versions {versions}")

    signed_hash = hashlib.sha256(data[:sig_start]).hexdigest()
    matched = []
    with tempfile.TemporaryDirectory() as tmp:
        signed = os.path.join(tmp, "signed")
        with open(signed, "wb") as out:
            out.write(data[:sig_start])
        for key in args.pubkey:
            ok = None
            for s in sigs.signatures:
                sig = os.path.join(tmp, "sig")
                with open(sig, "wb") as out:
                    out.write(s.data)
                r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", key,
                                    "-signature", sig, signed], capture_output=True)
                if r.returncode == 0:
                    ok = s.version
                    break
            if ok is None:
                raise Bad(f"no signature verifies with {key}")
            matched.append({"key": key, "version": ok})

    size = m.new_partition_info.size
    image = bytearray(size)
    covered = 0
    counts = {"REPLACE": 0, "REPLACE_BZ": 0}
    expect_offset = 0
    for i, op in enumerate(m.partition_operations):
        if op.data_offset != expect_offset:
            raise Bad(f"operation {i} data not contiguous")
        expect_offset += op.data_length
        blob = data[blobs + op.data_offset: blobs + op.data_offset + op.data_length]
        if len(blob) != op.data_length:
            raise Bad(f"operation {i} data past end of file")
        if hashlib.sha256(blob).digest() != op.data_sha256_hash:
            raise Bad(f"operation {i} hash mismatch")
        if len(op.dst_extents) != 1:
            raise Bad(f"operation {i} has {len(op.dst_extents)} extents")
        if op.type == 1:
            blob = bz2.decompress(blob)
            counts["REPLACE_BZ"] += 1
        elif op.type == 0:
            counts["REPLACE"] += 1
        else:
            raise Bad(f"operation {i} type {op.type}")
        ext = op.dst_extents[0]
        start = ext.start_block * bs
        room = ext.num_blocks * bs
        # Clients write only the data: update_engine's extent writer refuses data
        # longer than the extent; ue-rs ignores num_blocks and hashes all it wrote.
        # Flatcar's generator declares the last, partial chunk as a whole one.
        if len(blob) > room:
            raise Bad(f"operation {i} data of {len(blob)} bytes overflows its {ext.num_blocks} blocks")
        if i == len(m.partition_operations) - 1:
            if start + len(blob) != size:
                raise Bad(f"operation {i} data ends at {start + len(blob)}, not at the image's end")
            if start + room > -(-size // MiB) * MiB:
                raise Bad(f"operation {i} extent ends past the image's last 1 MiB chunk")
        elif len(blob) != room:
            raise Bad(f"operation {i} length {len(blob)} != {ext.num_blocks} blocks")
        if start + len(blob) > size:
            raise Bad(f"operation {i} writes past the image")
        image[start:start + len(blob)] = blob
        covered += len(blob)
    if expect_offset != m.signatures_offset:
        raise Bad("signatures do not follow the last operation's data")
    if covered != size:
        raise Bad(f"operations cover {covered} of {size} bytes")
    if hashlib.sha256(image).digest() != m.new_partition_info.hash:
        raise Bad("rebuilt image hash differs from new_partition_info")
    if args.out:
        with open(args.out, "wb") as out:
            out.write(image)
    print(json.dumps({"signed_range_sha256": signed_hash, "signatures": n,
                      "versions": versions, "matched": matched, "image_size": size,
                      "operations": counts, "block_size": bs}))


def signed_hash(args):
    data, m, blobs = read_payload(args.payload)
    print(hashlib.sha256(data[:blobs + m.signatures_offset]).hexdigest())


def mutate(args):
    """Rewrites one manifest field (and the header's manifest size) to make bad payloads."""
    data, m, blobs = read_payload(args.payload)
    if args.field == "last-op-length":
        m.partition_operations[-1].data_length += args.add
    elif args.field == "signatures-size":
        m.signatures_size += args.add
    elif args.field == "image-size":
        m.new_partition_info.size += args.add
    else:
        raise Bad(f"unknown field {args.field}")
    raw = m.SerializeToString()
    with open(args.out, "wb") as out:
        out.write(data[:4] + struct.pack(">QQ", 1, len(raw)) + raw + data[blobs:])


def flatcar_generate(args):
    """A payload as Flatcar's delta_generator and core_sign_update make it."""
    image = open(args.payload, "rb").read()
    bs = 4096
    if len(image) % bs:
        raise Bad("the image size is not a multiple of 4096")
    m = Manifest()
    blobs = bytearray()
    for offset in range(0, len(image), MiB):
        chunk = image[offset:offset + MiB]
        packed = bz2.compress(chunk)
        op = m.partition_operations.add()
        op.type = 1 if len(packed) < len(chunk) else 0  # REPLACE_BZ if smaller
        data = packed if op.type == 1 else chunk
        op.data_offset = len(blobs)
        op.data_length = len(data)
        op.data_sha256_hash = hashlib.sha256(data).digest()
        ext = op.dst_extents.add()
        ext.start_block = offset // bs
        ext.num_blocks = MiB // bs  # a whole chunk, the last one too
        blobs += data
    if args.last_extent_blocks is not None:
        m.partition_operations[-1].dst_extents[0].num_blocks = args.last_extent_blocks
    m.block_size = bs
    # The signature blob's size is that of real signatures of the keys' sizes.
    n = len(args.key)
    sizes = [len(sign_hash(key, b"\0" * 32)) for key in args.key]
    sigs = Signatures()
    for i, size in enumerate(sizes):
        s = sigs.signatures.add()
        s.version = 3 - n + i
        s.data = b"\0" * size
    sig_size = len(sigs.SerializeToString())
    m.signatures_offset = len(blobs)
    m.signatures_size = sig_size
    noop = m.noop_operations.add()
    noop.type = 0
    noop.data_offset = len(blobs)
    noop.data_length = sig_size
    hole = noop.dst_extents.add()
    hole.start_block = 2**64 - 1
    hole.num_blocks = (sig_size + bs - 1) // bs
    m.new_partition_info.size = len(image)
    m.new_partition_info.hash = hashlib.sha256(image).digest()
    raw = m.SerializeToString()
    signed = b"CrAU" + struct.pack(">QQ", 1, len(raw)) + raw + bytes(blobs)
    digest = hashlib.sha256(signed).digest()
    for s, key in zip(sigs.signatures, args.key):
        s.data = sign_hash(key, digest)
    blob = sigs.SerializeToString()
    if len(blob) != sig_size:
        raise Bad("the signatures' size differs from the space reserved")
    with open(args.out, "wb") as out:
        out.write(signed + blob)
    print(json.dumps({"operations": len(m.partition_operations), "image_size": len(image),
                      "last_extent": [m.partition_operations[-1].dst_extents[0].start_block,
                                      m.partition_operations[-1].dst_extents[0].num_blocks],
                      "signed_range_sha256": digest.hex()}))


def sign_hash(key, digest):
    """PKCS#1 v1.5 over a SHA-256 DigestInfo, made by openssl from the bare hash."""
    with tempfile.TemporaryDirectory() as tmp:
        h = os.path.join(tmp, "hash")
        with open(h, "wb") as out:
            out.write(digest)
        return subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-pkeyopt",
                               "digest:sha256", "-in", h], check=True,
                              capture_output=True).stdout


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify")
    v.add_argument("payload")
    v.add_argument("--pubkey", action="append", required=True)
    v.add_argument("--out")
    v.set_defaults(fn=verify)
    h = sub.add_parser("signed-hash")
    h.add_argument("payload")
    h.set_defaults(fn=signed_hash)
    mu = sub.add_parser("mutate")
    mu.add_argument("payload")
    mu.add_argument("out")
    mu.add_argument("--field", required=True)
    mu.add_argument("--add", type=int, required=True)
    mu.set_defaults(fn=mutate)
    g = sub.add_parser("flatcar-generate")
    g.add_argument("payload", metavar="IMAGE")
    g.add_argument("out")
    g.add_argument("--key", action="append", required=True)
    g.add_argument("--last-extent-blocks", type=int)
    g.set_defaults(fn=flatcar_generate)
    args = p.parse_args()
    try:
        args.fn(args)
    except Bad as e:
        print(f"payload_reader: {args.payload}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

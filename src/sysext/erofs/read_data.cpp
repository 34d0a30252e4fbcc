// The uncompressed layouts as the kernel's fs/erofs/data.c maps them:
// FLAT_PLAIN (consecutive blocks from i_u), FLAT_INLINE (the same, the last
// block's bytes after the inode, never across a block boundary) and
// CHUNK_BASED (a 4-byte block address or an 8-byte index per chunk of
// block_size << chunkbits bytes, right after the inode, aligned to its size;
// 0xFFFFFFFF is a hole).
#include "sysext/erofs/read_data.hpp"

#include "sysext/util/endian.hpp"

#include <algorithm>

namespace sysext::erofs {

namespace {

constexpr uint32_t k_chunk_blkbits_mask = 0x1F;
constexpr uint32_t k_chunk_indexes = 0x20;

// `len` bytes from block `blkaddr` on into out[at...].
void read_blocks(const ReadSource& src, uint64_t blkaddr, uint64_t len, std::string& out,
                 uint64_t at, const std::string& what) {
    const uint32_t bits = src.super().block_bits;
    if (blkaddr > (src.size() >> bits) || !src.contains(blkaddr << bits, len))
        src.corrupt(what + ": data at block " + std::to_string(blkaddr) + " (" +
                    std::to_string(len) + " bytes) lies beyond the image");
    src.read_into(blkaddr << bits, out.data() + at, len, what);
}

std::string read_flat(const ReadSource& src, const ReadInode& inode, const std::string& what) {
    // Every byte lies in the image: check that before allocating.
    if (inode.size > src.size())
        src.corrupt(what + ": " + std::to_string(inode.size) +
                    " bytes of uncompressed data, more than the image holds");
    std::string out(inode.size, '\0');
    const uint32_t bs = src.super().block_size;
    const uint64_t blocks = (inode.size + bs - 1) / bs;
    if (blocks == 0)
        return out;
    if (inode.layout == Layout::FlatPlain) {
        read_blocks(src, inode.i_u, inode.size, out, 0, what);
        return out;
    }
    // FLAT_INLINE: the last block's bytes follow the inode in its block.
    const uint64_t head = (blocks - 1) * bs, tail = inode.size - head;
    if (head > 0)
        read_blocks(src, inode.i_u, head, out, 0, what);
    const uint64_t at = inode.body_offset();
    if (at % bs + tail > bs)
        src.corrupt(what + ": inline data of " + std::to_string(tail) +
                    " bytes crosses a block boundary");
    src.read_into(at, out.data() + head, tail, what + ": inline data");
    return out;
}

std::string read_chunks(const ReadSource& src, const ReadInode& inode, const std::string& what) {
    const uint32_t format = inode.i_u & 0xFFFF;
    if (format & ~(k_chunk_blkbits_mask | k_chunk_indexes))
        src.corrupt(what + ": chunk format " + hex_number(format) + " has unknown bits");
    const uint32_t chunk_bits = src.super().block_bits + (format & k_chunk_blkbits_mask);
    const uint64_t chunk = uint64_t{1} << chunk_bits;
    const uint64_t unit = (format & k_chunk_indexes) ? 8 : 4;
    const uint64_t chunks = inode.size / chunk + (inode.size % chunk != 0);
    const uint64_t map_at = (inode.body_offset() + unit - 1) / unit * unit;
    if (chunks > src.size() / unit || !src.contains(map_at, chunks * unit))
        src.corrupt(what + ": chunk map of " + std::to_string(chunks) +
                    " chunks runs past the image");
    const std::string map = src.read(map_at, chunks * unit, what + ": chunk map");
    const auto* m = reinterpret_cast<const uint8_t*>(map.data());
    std::string out(inode.size, '\0');
    for (uint64_t i = 0; i < chunks; ++i) {
        const uint8_t* e = m + i * unit;
        uint64_t blkaddr = get_le(e, 4);
        if (unit == 8) {
            if (get_le(e + 2, 2) != 0)
                src.corrupt(what + ": chunk " + std::to_string(i) + " lies on device " +
                            std::to_string(get_le(e + 2, 2)) + "; only one device is supported");
            blkaddr = get_le(e + 4, 4);
        }
        if (blkaddr == k_null_addr)
            continue; // a hole: zeros
        const uint64_t at = i * chunk;
        read_blocks(src, blkaddr, std::min(chunk, inode.size - at), out, at, what);
    }
    return out;
}

} // namespace

std::string read_data(const ReadSource& src, const ReadInode& inode, const std::string& what) {
    switch (inode.layout) {
    case Layout::FlatPlain:
    case Layout::FlatInline:
        return read_flat(src, inode, what);
    case Layout::ChunkBased:
        return read_chunks(src, inode, what);
    case Layout::CompressedFull:
    case Layout::CompressedCompact:
        return read_compressed(src, inode, what);
    }
    src.corrupt(what + ": unknown data layout");
}

} // namespace sysext::erofs

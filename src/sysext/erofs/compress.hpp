// EROFS compression: fixed-size output LZ4, LZMA and zstd extents.
//
// EROFS compresses into physical clusters of a fixed size: each extent is as
// much input as fits into at most one pcluster once compressed (LZ4 fast or
// HC: liblz4's destSize functions; LZMA: liblzma's MicroLZMA encoder, made
// for EROFS; zstd, which has none: a search over the input's length, one
// zstd frame per extent), stored at the end of its blocks
// behind leading zeros
// (the ZERO_PADDING feature, which tells the decompressor the exact length).
// An extent must save at least one block over its input, else that lcluster
// is stored plain (uncompressed, one block). indexes.hpp maps the extents.
//
// Compression is a pure function of the bytes and the settings, so segments
// compressed on any thread give the same image.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sysext::erofs {

struct Compression {
    enum class Algorithm { None, Lz4, Lz4hc, Lzma, Zstd } algorithm = Algorithm::Lz4hc;
    int level = 12; // LZ4HC 1..12, LZMA 0..9, zstd 1..22; unused for the others

    // "none", "lz4", "lz4hc[:LEVEL]", "lzma[:LEVEL]" or "zstd[:LEVEL]"; throws
    // Usage naming --compression.
    static Compression parse(std::string_view spec);
    std::string to_string() const;
    bool enabled() const { return algorithm != Algorithm::None; }
    // The algorithm's number in map headers and the superblock (Z_EROFS_COMPRESSION_*).
    uint8_t format_id() const;
    bool operator==(const Compression&) const = default;
};

// A pcluster size: a multiple of 4 KiB from 4 KiB to 1 MiB; throws Usage otherwise.
uint32_t check_pcluster_size(uint64_t size, std::string_view flag);

// One extent of a segment, as compressed.
struct ExtentData {
    uint32_t length = 0; // logical bytes
    bool plain = false;
    // The end of the file in less than a block, to be stored after the inode
    // (ztailpacking): `blocks` then holds just those bytes.
    bool tail = false;
    std::string blocks; // physical bytes, whole blocks
};

// zstd's window for a pcluster size, as log2: eight pclusters, at most the
// 1 MiB the kernel allows (an extent never holds more input than that).
uint32_t zstd_window_log(uint32_t pcluster);
// LZMA's dictionary for a pcluster size: eight pclusters, a power of two.
uint32_t lzma_dict_size(uint32_t pcluster);

// Splits data (a segment starting on a 4 KiB boundary of its file) into extents.
// With tail_room (the segment ends its file; 0: no tail packing), an end that
// compresses into at most tail_room bytes (less than a block), or is stored as it
// is in no more, becomes a tail extent: the room is what the inode's block has
// left after the inode and its indexes, where the tail goes.
std::vector<ExtentData> compress_segment(const Compression& c, uint32_t pcluster,
                                         const uint8_t* data, size_t size, uint32_t tail_room = 0);

// An extent placed in the image.
struct Extent {
    uint64_t logical = 0; // offset in the file
    uint32_t blkaddr = 0;
    uint32_t blocks = 1;
    bool plain = false;
    bool inlined = false; // the tail, after the inode: no blocks of its own
};

} // namespace sysext::erofs

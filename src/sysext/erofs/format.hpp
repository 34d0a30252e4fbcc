// The EROFS on-disk format, as far as this writer uses it.
//
// Follows the Linux kernel's fs/erofs/erofs_fs.h and
// Documentation/filesystems/erofs.rst: a 128-byte superblock at offset 1024,
// 4 KiB blocks, inodes addressed by nid (32-byte slots from the start of the
// metadata area), compact (32-byte) and extended (64-byte) inodes, inline and
// shared extended attributes, directories as blocks of 12-byte dirents followed
// by their names, and compressed files described by one 8-byte lcluster index
// per 4 KiB of file data ("full" indexes). Every field is little-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sysext::erofs {

inline constexpr uint32_t k_block_bits = 12;
inline constexpr uint32_t k_block = 1u << k_block_bits;
inline constexpr uint32_t k_super_offset = 1024;
inline constexpr uint32_t k_magic = 0xE0F5E1E2;
inline constexpr uint32_t k_slot = 32; // nid unit and inode alignment

// Superblock feature bits.
inline constexpr uint32_t k_compat_sb_chksum = 0x1;
inline constexpr uint32_t k_incompat_zero_padding = 0x1;
inline constexpr uint32_t k_incompat_compr_cfgs = 0x2; // also BIG_PCLUSTER
inline constexpr uint32_t k_incompat_chunked_file = 0x4;
inline constexpr uint32_t k_incompat_ztailpacking = 0x10;
inline constexpr uint32_t k_incompat_fragments = 0x20;

// Inode data layouts (i_format bits 1-3).
enum class Layout : uint16_t {
    FlatPlain = 0,
    CompressedFull = 1,
    FlatInline = 2,
    CompressedCompact = 3,
    ChunkBased = 4,
};

inline constexpr uint32_t k_compact_inode = 32;
inline constexpr uint32_t k_extended_inode = 64;

// Directory entry file types (the kernel's FT_*).
enum FileType : uint8_t {
    k_ft_unknown = 0,
    k_ft_reg = 1,
    k_ft_dir = 2,
    k_ft_chrdev = 3,
    k_ft_blkdev = 4,
    k_ft_fifo = 5,
    k_ft_sock = 6,
    k_ft_symlink = 7,
};
inline constexpr uint32_t k_dirent = 12;
inline constexpr uint32_t k_max_name = 255;

// Extended attributes.
inline constexpr uint32_t k_xattr_ibody_header = 12;
inline constexpr uint32_t k_xattr_entry_header = 4;

// Compression: the map header and lcluster indexes after a compressed inode.
inline constexpr uint32_t k_map_header = 8;
inline constexpr uint32_t k_lcluster_index = 8;
inline constexpr uint16_t k_lcluster_plain = 0;
inline constexpr uint16_t k_lcluster_head1 = 1;
inline constexpr uint16_t k_lcluster_nonhead = 2;
inline constexpr uint16_t k_d0_cblkcnt = 1u << 11;
inline constexpr uint16_t k_advise_big_pcluster_1 = 0x0002;
inline constexpr uint8_t k_algorithm_lz4 = 0;
inline constexpr uint8_t k_algorithm_lzma = 1;
inline constexpr uint8_t k_algorithm_zstd = 3;
inline constexpr uint32_t k_max_pcluster = 1024 * 1024;
// The chunk map's value for a hole.
inline constexpr uint32_t k_null_addr = 0xFFFFFFFF;

// CRC-32C as the kernel computes the superblock checksum: seeded with ~0, no
// final inversion.
uint32_t crc32c(uint32_t seed, const void* data, size_t size);

inline void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
}
inline void put32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void put64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i)
        p[i] = static_cast<uint8_t>(v >> (8 * i));
}

inline uint64_t blocks_for(uint64_t bytes) {
    return (bytes + k_block - 1) >> k_block_bits;
}

// The fields of a superblock this writer sets.
struct SuperBlock {
    uint32_t feature_compat = k_compat_sb_chksum;
    uint32_t feature_incompat = 0;
    uint64_t root_nid = 0;
    uint64_t inodes = 0;
    uint64_t build_time = 0;
    uint32_t blocks = 0;
    uint32_t meta_blkaddr = 0;
    uint32_t xattr_blkaddr = 0;
    uint64_t packed_nid = 0; // FRAGMENTS: the packed inode
    // Compression configurations follow the superblock (COMPR_CFGS).
    bool lz4_config = false;
    uint16_t lz4_max_pclusterblks = 1;
    bool lzma_config = false;
    uint32_t lzma_dict_size = 0;
    bool zstd_config = false;
    uint8_t zstd_window_log = 0; // log2 of the window, 10 to 20
};

// Block 0 of the image: zeros, the superblock at 1024, its compression
// configurations, and the checksum over bytes 1024 to 4095.
std::string encode_block0(const SuperBlock& sb);

} // namespace sysext::erofs

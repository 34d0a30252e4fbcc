#include "sysext/erofs/format.hpp"

#include "sysext/util/error.hpp"

#include <array>

namespace sysext::erofs {

namespace {

std::array<uint32_t, 256> make_crc32c_table() {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1; // Castagnoli, reflected
        table[i] = c;
    }
    return table;
}

} // namespace

uint32_t crc32c(uint32_t seed, const void* data, size_t size) {
    static const std::array<uint32_t, 256> table = make_crc32c_table();
    const auto* p = static_cast<const uint8_t*>(data);
    uint32_t crc = seed;
    for (size_t i = 0; i < size; ++i)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}

std::string encode_block0(const SuperBlock& sb) {
    if (sb.root_nid > 0xFFFF)
        throw Error(ErrorKind::Internal,
                    "EROFS: root directory nid " + std::to_string(sb.root_nid) + " beyond 16 bits");
    std::string block(k_block, '\0');
    auto* b = reinterpret_cast<uint8_t*>(block.data()) + k_super_offset;
    put32(b + 0, k_magic);
    put32(b + 8, sb.feature_compat);
    b[12] = k_block_bits;
    b[13] = 0; // sb_extslots
    put16(b + 14, static_cast<uint16_t>(sb.root_nid));
    put64(b + 16, sb.inodes);
    put64(b + 24, sb.build_time);
    put32(b + 32, 0); // build_time_nsec
    put32(b + 36, sb.blocks);
    put32(b + 40, sb.meta_blkaddr);
    put32(b + 44, sb.xattr_blkaddr);
    // uuid (48) and volume_name (64) stay zero: the same tree gives the same bytes.
    put32(b + 80, sb.feature_incompat);
    put64(b + 96, sb.packed_nid);
    // The configurations follow the 128-byte superblock, one per algorithm
    // in available_compr_algs in the order of their numbers: a 16-bit length,
    // then the algorithm's record.
    uint8_t* cfg = b + 128;
    uint16_t algorithms = 0;
    if (sb.lz4_config) {
        algorithms |= 1u << k_algorithm_lz4;
        // z_erofs_lz4_cfgs: max_distance (0: the default window), max_pclusterblks.
        put16(cfg, 14);
        put16(cfg + 2, 0);
        put16(cfg + 4, sb.lz4_max_pclusterblks);
        cfg += 16;
    }
    if (sb.lzma_config) {
        algorithms |= 1u << k_algorithm_lzma;
        // z_erofs_lzma_cfgs: dict_size, format 0.
        put16(cfg, 14);
        put32(cfg + 2, sb.lzma_dict_size);
        cfg += 16;
    }
    if (sb.zstd_config) {
        algorithms |= 1u << k_algorithm_zstd;
        // z_erofs_zstd_cfgs: format 0, the window log less ZSTD_WINDOWLOG_ABSOLUTEMIN (10).
        put16(cfg, 6);
        cfg[2] = 0;
        cfg[3] = static_cast<uint8_t>(sb.zstd_window_log - 10);
        cfg += 8;
    }
    if (algorithms)
        put16(b + 84, algorithms); // available_compr_algs
    if (sb.feature_compat & k_compat_sb_chksum) {
        uint32_t crc = crc32c(0xFFFFFFFFu, b, k_block - k_super_offset);
        put32(b + 4, crc);
    }
    return block;
}

} // namespace sysext::erofs

#include "sysext/erofs/read_source.hpp"

#include "sysext/erofs/format.hpp"
#include "sysext/util/endian.hpp"
#include "sysext/util/error.hpp"

#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <utility>

namespace sysext::erofs {

namespace {

constexpr uint32_t k_super_size = 128;
constexpr uint32_t k_known_incompat = k_incompat_zero_padding | k_incompat_compr_cfgs |
                                      k_incompat_chunked_file | k_incompat_ztailpacking;

// The incompatible features this reader cannot read, by name.
std::string unsupported_features(uint32_t bits) {
    struct Named {
        uint32_t bit;
        const char* name;
    };
    static constexpr Named k_names[] = {
        {k_incompat_device_table, "device table or second compression head"},
        {k_incompat_fragments, "fragments or dedupe"},
        {k_incompat_xattr_prefixes, "long xattr name prefixes"},
        {k_incompat_48bit, "48-bit block addresses"},
        {k_incompat_metabox, "metadata box"},
    };
    std::string out;
    for (const Named& n : k_names)
        if (bits & n.bit) {
            out += (out.empty() ? "" : ", ") + std::string(n.name) + " (" + hex_number(n.bit) + ")";
            bits &= ~n.bit;
        }
    if (bits)
        out += (out.empty() ? "" : ", ") + std::string("unknown features ") + hex_number(bits);
    return out;
}

} // namespace

std::string hex_number(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

const char* compression_algorithm_name(unsigned algorithm) {
    static constexpr const char* k_names[] = {"lz4", "lzma", "deflate", "zstd"};
    return algorithm < 4 ? k_names[algorithm] : nullptr;
}

bool ReadSuper::zero_padding() const {
    return feature_incompat & k_incompat_zero_padding;
}

ReadSource::ReadSource(const std::string& path, uint64_t offset, uint64_t size)
    : ReadSource(open_or_throw(path, O_RDONLY | O_CLOEXEC), path, offset, size) {}

ReadSource::ReadSource(int fd, const std::string& name, uint64_t offset, uint64_t size)
    : ReadSource(Fd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)), name, offset, size) {}

ReadSource::ReadSource(Fd fd, const std::string& name, uint64_t offset, uint64_t size)
    : m_name(name), m_fd(std::move(fd)) {
    if (!m_fd.valid())
        throw_errno(m_name);
    struct stat st {};
    if (::fstat(m_fd.get(), &st) != 0)
        throw_errno(m_name);
    const uint64_t file_size = static_cast<uint64_t>(st.st_size);
    if (offset > file_size)
        throw_input(m_name + ": image offset " + std::to_string(offset) +
                    " lies beyond the end of the file (" + std::to_string(file_size) + " bytes)");
    if (size == 0)
        size = file_size - offset;
    if (size > file_size - offset)
        throw_input(m_name + ": image of " + std::to_string(size) + " bytes at offset " +
                    std::to_string(offset) + " runs past the end of the file (" +
                    std::to_string(file_size) + " bytes)");
    m_offset = offset;
    m_size = size;
    check_super();
}

void ReadSource::read_into(uint64_t offset, void* buffer, uint64_t len,
                           const std::string& what) const {
    if (!contains(offset, len))
        corrupt(what + ": " + std::to_string(len) + " bytes at " + std::to_string(offset) +
                " lie beyond the image's " + std::to_string(m_size) + " bytes");
    if (pread_full(m_fd.get(), buffer, len, static_cast<off_t>(m_offset + offset), m_name) != len)
        corrupt(what + ": the file ends early");
}

std::string ReadSource::read(uint64_t offset, uint64_t len, const std::string& what) const {
    if (!contains(offset, len))
        corrupt(what + ": " + std::to_string(len) + " bytes at " + std::to_string(offset) +
                " lie beyond the image's " + std::to_string(m_size) + " bytes");
    std::string out(len, '\0');
    read_into(offset, out.data(), len, what);
    return out;
}

void ReadSource::corrupt(const std::string& what) const {
    throw_input(m_name + ": " + what);
}

void ReadSource::check_super() {
    if (m_size < k_super_offset + k_super_size)
        corrupt("too short for an EROFS superblock (" + std::to_string(m_size) + " bytes)");
    std::string head = read(k_super_offset, k_super_size, "superblock");
    const auto* sb = reinterpret_cast<const uint8_t*>(head.data());
    if (get_le(sb, 4) != k_magic)
        corrupt("no EROFS magic at byte 1024");
    ReadSuper& s = m_super;
    s.feature_compat = static_cast<uint32_t>(get_le(sb + 8, 4));
    s.block_bits = sb[12];
    if (s.block_bits < 12 || s.block_bits > 16)
        corrupt("block size 2^" + std::to_string(s.block_bits) +
                " is not supported (4096 to 65536 bytes)");
    s.block_size = 1u << s.block_bits;
    if (m_size < s.block_size)
        corrupt("too short for its first block (" + std::to_string(m_size) + " of " +
                std::to_string(s.block_size) + " bytes)");
    // The checksum covers the superblock's block from byte 1024 on, its own
    // field zeroed (the kernel's erofs_superblock_csum_verify).
    std::string block0 = read(0, s.block_size, "superblock");
    if (s.feature_compat & k_compat_sb_chksum) {
        const uint32_t stored = static_cast<uint32_t>(get_le(sb + 4, 4));
        std::string covered = block0.substr(k_super_offset);
        put_le(reinterpret_cast<uint8_t*>(covered.data()) + 4, 0, 4);
        const uint32_t crc = crc32c(0xFFFFFFFFu, covered.data(), covered.size());
        if (crc != stored)
            corrupt("superblock checksum " + hex_number(stored) + " does not match its content (" +
                    hex_number(crc) + ")");
    }
    s.feature_incompat = static_cast<uint32_t>(get_le(sb + 80, 4));
    if (uint32_t unknown = s.feature_incompat & ~k_known_incompat)
        corrupt("uses EROFS features this reader does not support: " +
                unsupported_features(unknown));
    s.root_nid = get_le(sb + 14, 2);
    s.inodes = get_le(sb + 16, 8);
    s.build_time = get_le(sb + 24, 8);
    s.blocks = static_cast<uint32_t>(get_le(sb + 36, 4));
    s.meta_blkaddr = static_cast<uint32_t>(get_le(sb + 40, 4));
    s.xattr_blkaddr = static_cast<uint32_t>(get_le(sb + 44, 4));
    const uint64_t image_bytes = uint64_t{s.blocks} << s.block_bits;
    if (image_bytes > m_size)
        corrupt("truncated: the superblock says the image has " + std::to_string(image_bytes) +
                " bytes, only " + std::to_string(m_size) + " are there");
    if ((uint64_t{s.meta_blkaddr} << s.block_bits) >= m_size)
        corrupt("metadata area at block " + std::to_string(s.meta_blkaddr) +
                " lies beyond the image");
    if (s.feature_incompat & k_incompat_compr_cfgs)
        read_compression_configs(block0);
    else
        s.compr_algs = 0; // LZ4 only, if any file is compressed; bytes 84-85 are its distance
}

// After the superblock and its extension slots, 4-aligned: for each available
// algorithm in bit order, a 16-bit length and that many bytes (the kernel's
// z_erofs_parse_cfgs). Only LZ4 is read here; the others are refused by name.
void ReadSource::read_compression_configs(const std::string& block0) {
    const auto* sb = reinterpret_cast<const uint8_t*>(block0.data()) + k_super_offset;
    ReadSuper& s = m_super;
    s.compr_algs = static_cast<uint16_t>(get_le(sb + 84, 2));
    for (unsigned alg = 1; alg < 16; ++alg)
        if (s.compr_algs & (1u << alg)) {
            const char* name = compression_algorithm_name(alg);
            corrupt(std::string("compressed with ") +
                    (name ? name : "algorithm " + std::to_string(alg)) +
                    ", which this reader does not support (LZ4 only)");
        }
    uint64_t at = k_super_offset + k_super_size + uint64_t{sb[13]} * 16;
    if (s.compr_algs & 1) {
        at = (at + 3) & ~uint64_t{3};
        uint8_t len[2];
        read_into(at, len, 2, "LZ4 configuration");
        const uint64_t n = get_le(len, 2);
        if (n < 14)
            corrupt("LZ4 configuration of " + std::to_string(n) + " bytes (14 expected)");
        std::string cfg = read(at + 2, 14, "LZ4 configuration");
        const uint64_t max_blocks = get_le(reinterpret_cast<const uint8_t*>(cfg.data()) + 2, 2);
        if (max_blocks << s.block_bits > k_max_pcluster)
            corrupt("LZ4 configuration allows physical clusters of " + std::to_string(max_blocks) +
                    " blocks, more than 1 MiB");
    }
}

} // namespace sysext::erofs

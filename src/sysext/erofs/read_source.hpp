// An opened EROFS image for reading: the file (possibly a window of a larger
// file, such as a partition of a disk image) and its checked superblock.
// Used by the reader (reader.cpp and the read_* files); not a public interface.
//
// The superblock is checked as the kernel's fs/erofs/super.c does and more
// strictly: the magic at byte 1024, the CRC-32C when SB_CHKSUM is set, block
// sizes of 4 KiB to 64 KiB, every incompatible feature bit known (the ones this
// reader cannot read are refused by name), the compression configurations
// that follow the superblock, and an image no larger than the window. Every
// read is bounded by the window: nothing is allocated for bytes that are not
// there.
#pragma once

#include "sysext/util/fd.hpp"

#include <cstdint>
#include <string>

namespace sysext::erofs {

// Incompatible feature bits this reader knows (erofs_fs.h).
inline constexpr uint32_t k_incompat_device_table = 0x8; // also COMPR_HEAD2
inline constexpr uint32_t k_incompat_fragments = 0x20;   // also DEDUPE
inline constexpr uint32_t k_incompat_xattr_prefixes = 0x40;
inline constexpr uint32_t k_incompat_48bit = 0x80;
inline constexpr uint32_t k_incompat_metabox = 0x100;

// "lz4", "lzma", "deflate", "zstd" for EROFS's algorithm numbers; null for others.
const char* compression_algorithm_name(unsigned algorithm);
// "0x1f", for feature bits and on-disk values in messages.
std::string hex_number(uint64_t value);

struct ReadSuper {
    uint32_t block_bits = 12;
    uint32_t block_size = 4096;
    uint32_t feature_compat = 0;
    uint32_t feature_incompat = 0;
    uint64_t root_nid = 0;
    uint64_t inodes = 0;
    uint64_t build_time = 0;
    uint32_t blocks = 0;
    uint32_t meta_blkaddr = 0;
    uint32_t xattr_blkaddr = 0;
    uint16_t compr_algs = 0; // available algorithms (bit 0: LZ4), from COMPR_CFGS

    bool zero_padding() const;
};

class ReadSource {
public:
    // Opens `path` and checks the superblock of the image at [offset,
    // offset+size) (size 0: to the end of the file).
    ReadSource(const std::string& path, uint64_t offset, uint64_t size);
    // The same on an open file (duplicated; the caller keeps `fd`); `name` is
    // what messages call it ("DISK: root partition").
    ReadSource(int fd, const std::string& name, uint64_t offset, uint64_t size);

    const std::string& name() const { return m_name; }
    const ReadSuper& super() const { return m_super; }
    // The bytes reads may touch: the window.
    uint64_t size() const { return m_size; }

    // Reads [offset, offset+len) of the image; refuses ranges outside it,
    // naming `what`, before allocating.
    std::string read(uint64_t offset, uint64_t len, const std::string& what) const;
    void read_into(uint64_t offset, void* buffer, uint64_t len, const std::string& what) const;
    // Whether [offset, offset+len) lies inside the image (no overflow).
    bool contains(uint64_t offset, uint64_t len) const {
        return offset <= m_size && len <= m_size - offset;
    }

    // Throws "<name>: <what>" as an Input error.
    [[noreturn]] void corrupt(const std::string& what) const;

private:
    ReadSource(Fd fd, const std::string& name, uint64_t offset, uint64_t size);
    void check_super();
    void read_compression_configs(const std::string& block0);

    std::string m_name;
    Fd m_fd;
    uint64_t m_offset = 0;
    uint64_t m_size = 0;
    ReadSuper m_super;
};

} // namespace sysext::erofs

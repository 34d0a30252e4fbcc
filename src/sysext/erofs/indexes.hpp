// The lcluster indexes of a compressed EROFS file, in the full or the compact form.
//
// Every 4 KiB logical cluster (lcluster) of the file has an index: HEAD where
// an extent starts (its offset in the lcluster and its block address; PLAIN
// for an uncompressed extent), NONHEAD elsewhere (the distance back to its
// head and on to the next head; the first NONHEAD after a head holds the
// extent's block count, CBLKCNT, as BIG_PCLUSTER requires). The full form is
// 8 bytes per lcluster after an 8-byte map header and 8 reserved bytes. The
// compact form, after the map header alone, packs 2 lclusters in 8 bytes or
// (COMPACTED_2B, from a 32-byte boundary on) 16 in 32 bytes: 16- or 14-bit
// entries and one 32-bit block address per pack, from which the kernel counts
// its way to each head's address, so a file's extents must lie in consecutive
// blocks. Follows erofs_fs.h and the kernel's fs/erofs/zmap.c.
#pragma once

#include "sysext/erofs/compress.hpp"
#include "sysext/erofs/format.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sysext::erofs {

// Bytes from the 8-aligned end of inode and xattrs on: map header, then indexes.
uint64_t full_indexes_size(uint64_t size);
uint64_t compact_indexes_size(uint64_t size, uint32_t header_size);

// What a compressed file's map header says besides its index form.
struct MapHeader {
    uint16_t tail_size = 0;             // the inline tail extent after the indexes (0: none)
    uint8_t algorithm = k_algorithm_lz4; // the compressor's number (Compression::format_id())
    // The last extent is in the packed inode (FRAGMENTS), at this offset;
    // exclusive with an inline tail, whose field it shares.
    bool fragment = false;
    uint64_t fragment_off = 0;
};

// The map header and indexes of a file of `size` bytes made of these extents
// (in order, covering the file; for the compact form in consecutive blocks).
// header_size is the inode's size plus its xattrs'.
std::string encode_full_indexes(const std::vector<Extent>& extents, uint64_t size,
                                bool big_pcluster, const MapHeader& header = {});
std::string encode_compact_indexes(const std::vector<Extent>& extents, uint64_t size,
                                   uint32_t header_size, const MapHeader& header = {});

// The 16 bytes after an inode whose whole data is in the packed inode at
// `offset`: the map header with bit 63 set, the rest its offset, then 8
// reserved bytes (the kernel reads no indexes for it).
std::string encode_whole_fragment(uint64_t offset);

} // namespace sysext::erofs

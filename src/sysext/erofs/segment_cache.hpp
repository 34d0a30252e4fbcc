// Compressed segments of EROFS files, looked up in the block cache first.
//
// A segment's extents are a pure function of its bytes and of the settings
// (compression and level, pcluster, whether the segment ends its file and
// tails are packed, the LZ4 library), so they are cached whole: the key is
// the SHA-256 of all of that (block_cache_key) and the value the extents'
// lengths, kinds and bytes. A rebuild whose files did not change compresses
// nothing, and the image is the same with or without the cache: a hit is
// parsed with every length checked and each extent decompressed (or, stored
// as it is, compared) against the segment before it is used; anything else
// is a miss, and the entry is removed.
#pragma once

#include "sysext/erofs/compress.hpp"
#include "sysext/util/block_cache.hpp"

#include <optional>
#include <string>
#include <vector>

namespace sysext::erofs {

class SegmentCache {
public:
    // cache may be null: then extents() always compresses.
    SegmentCache(BlockCache* cache, const Compression& c, uint32_t pcluster);

    std::vector<ExtentData> extents(const uint8_t* data, size_t size, uint32_t tail_room) const;

private:
    BlockCache* m_cache;
    Compression m_compression;
    uint32_t m_pcluster;
    std::string m_context; // see context()
};

// The cache's value for extents, and back; nullopt when the bytes are not
// exactly the extents of `data` as `c` compresses them (lengths, padding,
// decompressed contents).
std::string serialize_extents(const std::vector<ExtentData>& extents);
std::optional<std::vector<ExtentData>> parse_extents(const std::string& value, const uint8_t* data,
                                                     size_t size, uint32_t pcluster,
                                                     const Compression& c);

} // namespace sysext::erofs

// One EROFS inode as the writer builds it, and its bytes in the metadata area.
#pragma once

#include "sysext/erofs/compress.hpp"
#include "sysext/erofs/format.hpp"
#include "sysext/tree/tree.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sysext::erofs {

struct InodeInfo {
    const tree::Node* node = nullptr;
    uint32_t ino = 0;
    bool extended = false;
    uint32_t xattr_size = 0;
    std::string xattrs; // the ibody, once built
    Layout layout = Layout::FlatPlain;
    uint64_t size = 0;
    uint32_t i_u = k_null_addr;   // raw_blkaddr, compressed block count or rdev
    std::string inline_data;      // FlatInline: the tail; compressed: the tail extent
    std::vector<uint32_t> chunks; // ChunkBased: one block address per 4 KiB
    std::vector<Extent> extents;  // CompressedFull, CompressedCompact
    // FRAGMENTS: the file's last extent (tail_fragment) or all of it
    // (whole_fragment, CompressedFull with no indexes) is in the packed
    // inode at fragment_off.
    bool tail_fragment = false;
    bool whole_fragment = false;
    uint64_t fragment_off = 0;
    std::string dir;              // directories: their bytes
    uint64_t nid = 0;

    uint32_t inode_size() const { return extended ? k_extended_inode : k_compact_inode; }
    // Inode and inline xattrs: what precedes inline data.
    uint32_t header_size() const { return inode_size() + xattr_size; }
    // Everything this inode takes in the metadata area.
    uint64_t record_size() const;
};

// Whether a node needs a 64-byte inode: ids, link count or size beyond the
// compact inode's fields, or a time other than the image's build time.
bool needs_extended(const tree::Node& n, uint64_t size, uint64_t build_time);

// The mode's file type bits for a node type (S_IFREG, ...).
uint16_t mode_type(tree::NodeType t);
// The dirent file type for a node type.
uint8_t dirent_type(tree::NodeType t);

// The inode's record: inode, xattrs, then inline data, chunk map or indexes
// (algorithm: the compressor's number for a compressed file's map header).
std::string encode_record(const InodeInfo& info, bool big_pcluster, uint8_t algorithm);

} // namespace sysext::erofs

// Reading one EROFS inode by its nid: the compact (32-byte) or extended
// (64-byte) form, and its extended attributes, inline after the inode and
// shared in the xattr area (erofs_fs.h; the kernel's fs/erofs/inode.c and
// xattr.c). Part of the reader; not a public interface.
#pragma once

#include "sysext/erofs/format.hpp"
#include "sysext/erofs/read_source.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace sysext::erofs {

struct ReadInode {
    uint64_t nid = 0;
    uint64_t offset = 0; // of the inode in the image
    bool extended = false;
    Layout layout = Layout::FlatPlain;
    uint32_t mode = 0; // with the type bits
    uint32_t nlink = 0;
    uint32_t uid = 0, gid = 0;
    uint64_t size = 0;
    uint32_t i_u = 0; // block address, device number or chunk format, by layout and type
    uint32_t xattr_size = 0;

    uint32_t inode_size() const { return extended ? k_extended_inode : k_compact_inode; }
    // Where what follows the inode and its xattrs begins: inline data, the
    // chunk map or (8-aligned) the compression map header.
    uint64_t body_offset() const { return offset + inode_size() + xattr_size; }
    // 'd', 'f', 'l', 'c', 'b', 'p' or 's'.
    char type() const;
    bool compressed() const {
        return layout == Layout::CompressedFull || layout == Layout::CompressedCompact;
    }
};

// Reads and checks the inode at `nid`; `what` names it in messages (its path).
ReadInode read_inode(const ReadSource& src, uint64_t nid, const std::string& what);

// The inode's extended attributes, by full name ("security.capability").
std::map<std::string, std::string> read_xattrs(const ReadSource& src, const ReadInode& inode,
                                               const std::string& what);

} // namespace sysext::erofs

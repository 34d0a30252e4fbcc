// Reading an EROFS inode's data whole: plain blocks, blocks with an inline
// tail, chunk maps (holes read as zeros) and LZ4-compressed extents with full
// or compact lcluster indexes (read_zmap.cpp). Callers bound the inode's size
// before asking: the result is allocated at that size. Part of the reader;
// not a public interface.
#pragma once

#include "sysext/erofs/read_inode.hpp"
#include "sysext/erofs/read_source.hpp"

#include <string>

namespace sysext::erofs {

// The inode's bytes, [0, inode.size); `what` names it in messages.
std::string read_data(const ReadSource& src, const ReadInode& inode, const std::string& what);

// The same for a compressed inode (COMPRESSED_FULL or COMPRESSED_COMPACT).
std::string read_compressed(const ReadSource& src, const ReadInode& inode, const std::string& what);

} // namespace sysext::erofs

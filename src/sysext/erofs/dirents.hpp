// EROFS directory contents: blocks of 12-byte dirents followed by the names.
//
// Each 4 KiB block starts with its dirents; the first dirent's name offset
// divided by 12 is the number of entries in the block, and each name runs to
// the next name's offset (the last to the block's or the directory's end, or
// a NUL). Entries, "." and ".." included, are in bytewise order within and
// across blocks, since the kernel looks names up by binary search. The last
// block is only as long as its entries, so it can be stored inline after the
// inode.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sysext::erofs {

struct DirEntry {
    std::string name;
    uint64_t nid = 0;
    uint8_t file_type = 0;
};

// Sorts entries bytewise (the caller adds "." and "..") and returns the
// directory's bytes: full blocks, then the used part of the last block.
std::string encode_directory(std::vector<DirEntry> entries);

} // namespace sysext::erofs

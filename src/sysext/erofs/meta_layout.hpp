// Placement of inode records in the EROFS metadata area.
//
// A record (inode, inline xattrs, inline tail or indexes) of at most one
// block never crosses a block boundary: inline data must not, and the rule
// keeps every inode readable from one block. Records go into the partly used
// block with the least room that still fits them (the first such block on a
// tie), which packs small records into the gaps larger ones leave; larger
// records start a new block. The order of calls alone decides the layout.
#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <vector>

namespace sysext::erofs {

class MetaLayout {
public:
    // The byte offset of a record of `size` bytes (rounded up to 32).
    uint64_t place(uint64_t size);
    // Blocks used so far.
    uint64_t blocks() const { return m_used.size(); }

private:
    void set_used(uint64_t block, uint32_t used);
    std::vector<uint32_t> m_used;                  // bytes used per block
    std::array<std::set<uint64_t>, 129> m_by_room; // blocks by free 32-byte slots
};

} // namespace sysext::erofs

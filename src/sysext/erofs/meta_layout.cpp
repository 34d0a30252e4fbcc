#include "sysext/erofs/meta_layout.hpp"

#include "sysext/erofs/format.hpp"

namespace sysext::erofs {

void MetaLayout::set_used(uint64_t block, uint32_t used) {
    m_used[block] = used;
    uint32_t room = (k_block - used) / k_slot;
    if (room > 0)
        m_by_room[room].insert(block);
}

uint64_t MetaLayout::place(uint64_t size) {
    size = (size + k_slot - 1) / k_slot * k_slot;
    if (size == 0)
        size = k_slot;
    if (size <= k_block) {
        for (uint64_t room = size / k_slot; room < m_by_room.size(); ++room) {
            auto& bucket = m_by_room[room];
            if (bucket.empty())
                continue;
            uint64_t block = *bucket.begin();
            bucket.erase(bucket.begin());
            uint64_t offset = block * k_block + m_used[block];
            set_used(block, m_used[block] + static_cast<uint32_t>(size));
            return offset;
        }
    }
    uint64_t first = m_used.size();
    uint64_t count = (size + k_block - 1) / k_block;
    m_used.resize(first + count, k_block);
    set_used(first + count - 1, static_cast<uint32_t>(size - (count - 1) * k_block));
    return first * k_block;
}

} // namespace sysext::erofs

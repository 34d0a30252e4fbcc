// Little-endian fields of on-disk structures (GPT headers, dm-verity superblocks).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sysext {

inline void put_le(uint8_t* p, uint64_t v, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i)
        p[i] = static_cast<uint8_t>(v >> (8 * i));
}

inline uint64_t get_le(const uint8_t* p, size_t bytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i)
        v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
}

} // namespace sysext

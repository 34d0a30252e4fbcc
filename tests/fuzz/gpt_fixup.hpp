// GPT's CRC32s stop nearly every mutated table at the first check. Targets
// that want the parser behind them run it on a copy whose CRCs are made right:
// the primary entries copied to the backup's place, both entry CRCs and both
// header CRCs recomputed (the UEFI layout of sysext/ddi/gpt.hpp).
#pragma once

#include "sysext/ddi/gpt.hpp"
#include "sysext/util/endian.hpp"

#include <cstring>
#include <string>

namespace sysext::fuzz {

// Returns the bytes with consistent CRCs, or them unchanged when they are too
// small or of a size no GPT disk has.
inline std::string fix_gpt_crcs(std::string disk) {
    using namespace sysext::ddi;
    constexpr size_t header_size = 92;
    constexpr size_t entries_bytes = size_t{k_entry_count} * k_entry_size;
    if (disk.size() % k_sector_size != 0 || disk.size() < (2 * k_table_sectors + 2) * k_sector_size)
        return disk;
    auto* d = reinterpret_cast<uint8_t*>(disk.data());
    const size_t last = disk.size() / k_sector_size - 1;
    uint8_t* primary = d + k_sector_size;
    uint8_t* backup = d + last * k_sector_size;
    const uint8_t* entries = d + 2 * k_sector_size;
    std::memmove(d + (last - (k_table_sectors - 1)) * k_sector_size, entries, entries_bytes);
    const uint32_t entries_crc = crc32(entries, entries_bytes);
    for (uint8_t* h : {primary, backup}) {
        put_le(h + 88, entries_crc, 4);
        put_le(h + 16, 0, 4);
        put_le(h + 16, crc32(h, header_size), 4);
    }
    return disk;
}

} // namespace sysext::fuzz

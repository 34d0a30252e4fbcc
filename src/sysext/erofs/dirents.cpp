#include "sysext/erofs/dirents.hpp"

#include "sysext/erofs/format.hpp"
#include "sysext/util/error.hpp"

#include <algorithm>

namespace sysext::erofs {

std::string encode_directory(std::vector<DirEntry> entries) {
    std::sort(entries.begin(), entries.end(),
              [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    std::string out;
    size_t i = 0;
    while (i < entries.size()) {
        // As many entries as fit in one block.
        size_t end = i;
        uint32_t used = 0;
        while (end < entries.size()) {
            const auto& name = entries[end].name;
            if (name.empty() || name.size() > k_max_name)
                throw Error(ErrorKind::Internal, "EROFS: directory entry name of " +
                                                     std::to_string(name.size()) + " bytes");
            if (used + k_dirent + name.size() > k_block)
                break;
            used += k_dirent + static_cast<uint32_t>(name.size());
            ++end;
        }
        if (i != 0)
            out.resize(out.size() + (k_block - out.size() % k_block) % k_block, '\0');
        std::string block(used, '\0');
        auto* b = reinterpret_cast<uint8_t*>(block.data());
        uint32_t nameoff = static_cast<uint32_t>((end - i) * k_dirent);
        for (size_t k = i; k < end; ++k) {
            uint8_t* d = b + (k - i) * k_dirent;
            put64(d, entries[k].nid);
            put16(d + 8, static_cast<uint16_t>(nameoff));
            d[10] = entries[k].file_type;
            std::copy(entries[k].name.begin(), entries[k].name.end(), block.begin() + nameoff);
            nameoff += static_cast<uint32_t>(entries[k].name.size());
        }
        out += block;
        i = end;
    }
    return out;
}

} // namespace sysext::erofs

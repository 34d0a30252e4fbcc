#include "sysext/erofs/xattrs.hpp"

#include "sysext/erofs/format.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

namespace sysext::erofs {

namespace {

struct Prefix {
    const char* text;
    uint8_t index;
    bool whole; // the whole name, nothing after it
};
// Longest first, so that the ACL names win over a shorter match.
constexpr Prefix k_prefixes[] = {
    {"system.posix_acl_default", 3, true},
    {"system.posix_acl_access", 2, true},
    {"security.", 6, false},
    {"trusted.", 4, false},
    {"user.", 1, false},
};

uint32_t align4(uint32_t n) {
    return (n + 3) & ~3u;
}

// The size of an entry whose name is `rest` after its prefix.
uint32_t entry_size(const std::string& rest, const std::string& value) {
    return align4(k_xattr_entry_header + static_cast<uint32_t>(rest.size()) +
                  static_cast<uint32_t>(value.size()));
}

} // namespace

std::pair<uint8_t, std::string> split_xattr_name(const std::string& key, const std::string& where) {
    for (const Prefix& p : k_prefixes) {
        std::string_view prefix(p.text);
        if (key.compare(0, prefix.size(), prefix) != 0)
            continue;
        std::string rest = key.substr(prefix.size());
        if (p.whole && !rest.empty())
            continue;
        if (!p.whole && rest.empty())
            break;
        if (rest.size() > k_max_name)
            throw_input(where + ": extended attribute name " + quote(key) +
                        " is longer than EROFS stores (255 bytes after the prefix)");
        return {p.index, rest};
    }
    throw_input(where + ": extended attribute " + quote(key) +
                " has no prefix EROFS can store (user., trusted., security., POSIX ACLs)");
}

std::string encode_xattr_entry(const std::string& key, const std::string& value) {
    auto [index, rest] = split_xattr_name(key, key);
    if (value.size() > 0xFFFF)
        throw_input(key + ": extended attribute value larger than 64 KiB");
    std::string out(k_xattr_entry_header, '\0');
    auto* h = reinterpret_cast<uint8_t*>(out.data());
    h[0] = static_cast<uint8_t>(rest.size());
    h[1] = index;
    put16(h + 2, static_cast<uint16_t>(value.size()));
    out += rest;
    out += value;
    out.resize(align4(static_cast<uint32_t>(out.size())), '\0');
    return out;
}

void XattrTable::count(const std::vector<tree::Xattr>& xattrs, const std::string& where) {
    for (const auto& x : xattrs) {
        split_xattr_name(x.key, where);
        if (x.value.size() > 0xFFFF)
            throw_input(where + ": extended attribute " + quote(x.key) +
                        " has a value larger than 64 KiB");
        ++m_counts[{x.key, x.value}];
    }
}

void XattrTable::finish() {
    // Map order (name, then value) fixes the ids, whatever order inodes came in.
    for (const auto& [key, n] : m_counts) {
        if (n <= k_share_after)
            continue;
        m_shared[key] = static_cast<uint32_t>(m_area.size() / 4);
        m_area += encode_xattr_entry(key.first, key.second);
    }
}

uint32_t XattrTable::ibody_size(const std::vector<tree::Xattr>& xattrs) const {
    if (xattrs.empty())
        return 0;
    uint32_t size = k_xattr_ibody_header;
    for (const auto& x : xattrs) {
        if (m_shared.count({x.key, x.value}))
            size += 4;
        else
            size += entry_size(split_xattr_name(x.key, x.key).second, x.value);
    }
    return size;
}

std::string XattrTable::ibody(const std::vector<tree::Xattr>& xattrs) const {
    if (xattrs.empty())
        return {};
    std::vector<uint32_t> ids;
    std::string inline_entries;
    for (const auto& x : xattrs) {
        auto it = m_shared.find({x.key, x.value});
        if (it != m_shared.end())
            ids.push_back(it->second);
        else
            inline_entries += encode_xattr_entry(x.key, x.value);
    }
    if (ids.size() > 0xFF)
        throw_input("more than 255 shared extended attributes on one entry");
    std::string out(k_xattr_ibody_header + 4 * ids.size(), '\0');
    auto* h = reinterpret_cast<uint8_t*>(out.data());
    // h_name_filter stays 0: the image does not set the xattr filter feature.
    h[4] = static_cast<uint8_t>(ids.size());
    for (size_t i = 0; i < ids.size(); ++i)
        put32(h + k_xattr_ibody_header + 4 * i, ids[i]);
    out += inline_entries;
    return out;
}

} // namespace sysext::erofs

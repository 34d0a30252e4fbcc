// Extended attributes of an EROFS image: inline in the inode, or shared.
//
// An attribute (name and value) that more than k_share_after inodes carry is
// stored once in the shared xattr area and referenced by a 32-bit id (its
// offset in 4-byte units); the others are stored after the inode. Names are
// stored as a prefix index (user., trusted., security., the POSIX ACLs) and
// the rest of the name, as erofs_fs.h defines; a name with another prefix
// cannot be stored.
#pragma once

#include "sysext/tree/tree.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sysext::erofs {

class XattrTable {
public:
    // Attributes on more inodes than this are shared (mkfs.erofs's default tolerance).
    static constexpr unsigned k_share_after = 2;

    // Counts one inode's attributes. `where` names the entry in errors.
    void count(const std::vector<tree::Xattr>& xattrs, const std::string& where);
    // Chooses the shared attributes and lays out their area.
    void finish();
    // The shared area's bytes (a multiple of 4, not padded to a block).
    const std::string& shared_area() const { return m_area; }
    // The bytes after an inode for these attributes ("" for none): the ibody
    // header, the shared ids, then the inline entries, 4-byte aligned.
    std::string ibody(const std::vector<tree::Xattr>& xattrs) const;
    // Its size without building it.
    uint32_t ibody_size(const std::vector<tree::Xattr>& xattrs) const;

private:
    using Key = std::pair<std::string, std::string>;
    std::map<Key, unsigned> m_counts;
    std::map<Key, uint32_t> m_shared; // -> id
    std::string m_area;
};

// The prefix index and the rest of an attribute name; throws Input naming
// `where` for names EROFS cannot store.
std::pair<uint8_t, std::string> split_xattr_name(const std::string& key, const std::string& where);

// One erofs_xattr_entry with its name and value, padded to 4 bytes.
std::string encode_xattr_entry(const std::string& key, const std::string& value);

} // namespace sysext::erofs

#include "sysext/erofs/read_inode.hpp"

#include "sysext/util/endian.hpp"
#include "sysext/util/strings.hpp"

#include <sys/stat.h>

namespace sysext::erofs {

namespace {

// More xattrs on one inode than this is damage, not a file (as the squashfs reader).
constexpr uint32_t k_max_xattrs = 4096;
constexpr uint32_t k_format_bits = 0xF; // version bit and 3 layout bits (EROFS_I_ALL)

// The prefixes of the name indexes (EROFS_XATTR_INDEX_*); 5 (lustre) is never
// listed by the kernel, so it is refused with the unknown ones.
const char* xattr_prefix(unsigned index) {
    switch (index) {
    case 1:
        return "user.";
    case 2:
        return "system.posix_acl_access";
    case 3:
        return "system.posix_acl_default";
    case 4:
        return "trusted.";
    case 6:
        return "security.";
    default:
        return nullptr;
    }
}

struct Xattr {
    std::string name, value;
    uint64_t size = 0; // on disk, padded to 4 bytes
};

// One entry (header, name, value) at `at`; `limit` is where its region ends.
Xattr read_entry(const ReadSource& src, uint64_t at, uint64_t limit, const std::string& what) {
    uint8_t h[k_xattr_entry_header];
    if (at > limit || limit - at < sizeof h)
        src.corrupt(what + ": xattr entry runs past its area");
    src.read_into(at, h, sizeof h, what + ": xattr");
    const uint32_t name_len = h[0], value_len = static_cast<uint32_t>(get_le(h + 2, 2));
    Xattr x;
    x.size = (sizeof h + name_len + value_len + 3) & ~uint64_t{3};
    if (limit - at < x.size)
        src.corrupt(what + ": xattr entry runs past its area");
    const char* prefix = xattr_prefix(h[1]);
    if (prefix == nullptr)
        src.corrupt(what + ": xattr name index " + std::to_string(h[1]) + " is unknown");
    std::string body = src.read(at + sizeof h, name_len + value_len, what + ": xattr");
    x.name = prefix + body.substr(0, name_len);
    x.value = body.substr(name_len);
    if (name_len == 0 && h[1] != 2 && h[1] != 3)
        src.corrupt(what + ": xattr with an empty name after " + quote(prefix));
    return x;
}

} // namespace

char ReadInode::type() const {
    switch (mode & S_IFMT) {
    case S_IFDIR:
        return 'd';
    case S_IFREG:
        return 'f';
    case S_IFLNK:
        return 'l';
    case S_IFCHR:
        return 'c';
    case S_IFBLK:
        return 'b';
    case S_IFIFO:
        return 'p';
    default:
        return 's';
    }
}

ReadInode read_inode(const ReadSource& src, uint64_t nid, const std::string& what) {
    const ReadSuper& sb = src.super();
    const uint64_t meta = uint64_t{sb.meta_blkaddr} << sb.block_bits;
    // Checked before multiplying: a nid is 64 bits wide.
    if (nid > (src.size() - meta) / k_slot || !src.contains(meta + nid * k_slot, k_compact_inode))
        src.corrupt(what + ": inode nid " + std::to_string(nid) + " lies beyond the image");
    ReadInode ino;
    ino.nid = nid;
    ino.offset = meta + nid * k_slot;
    uint8_t raw[k_extended_inode];
    src.read_into(ino.offset, raw, k_compact_inode, what + ": inode");
    const uint32_t format = static_cast<uint32_t>(get_le(raw, 2));
    if (format & ~k_format_bits)
        src.corrupt(what + ": inode format " + hex_number(format) + " has unknown bits");
    ino.extended = format & 1;
    const uint32_t layout = format >> 1;
    if (layout > static_cast<uint32_t>(Layout::ChunkBased))
        src.corrupt(what + ": unknown data layout " + std::to_string(layout));
    ino.layout = static_cast<Layout>(layout);
    if (ino.extended)
        src.read_into(ino.offset + k_compact_inode, raw + k_compact_inode,
                      k_extended_inode - k_compact_inode, what + ": inode");
    const uint32_t icount = static_cast<uint32_t>(get_le(raw + 2, 2));
    ino.xattr_size = icount ? k_xattr_ibody_header + 4 * (icount - 1) : 0;
    ino.mode = static_cast<uint32_t>(get_le(raw + 4, 2));
    ino.i_u = static_cast<uint32_t>(get_le(raw + 16, 4));
    if (ino.extended) {
        ino.size = get_le(raw + 8, 8);
        ino.uid = static_cast<uint32_t>(get_le(raw + 24, 4));
        ino.gid = static_cast<uint32_t>(get_le(raw + 28, 4));
        ino.nlink = static_cast<uint32_t>(get_le(raw + 44, 4));
    } else {
        ino.nlink = static_cast<uint32_t>(get_le(raw + 6, 2));
        ino.size = get_le(raw + 8, 4);
        ino.uid = static_cast<uint32_t>(get_le(raw + 24, 2));
        ino.gid = static_cast<uint32_t>(get_le(raw + 26, 2));
    }
    switch (ino.mode & S_IFMT) {
    case S_IFDIR:
    case S_IFREG:
    case S_IFLNK:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
        break;
    default:
        src.corrupt(what + ": unknown file type in mode " + hex_number(ino.mode));
    }
    if (!src.contains(ino.body_offset(), 0))
        src.corrupt(what + ": inode and xattrs run past the image");
    return ino;
}

std::map<std::string, std::string> read_xattrs(const ReadSource& src, const ReadInode& inode,
                                               const std::string& what) {
    std::map<std::string, std::string> out;
    if (inode.xattr_size == 0)
        return out;
    const uint64_t start = inode.offset + inode.inode_size();
    const uint64_t end = start + inode.xattr_size;
    uint8_t header[k_xattr_ibody_header];
    src.read_into(start, header, sizeof header, what + ": xattrs");
    const uint32_t shared = header[4];
    if (uint64_t{shared} * 4 > inode.xattr_size - k_xattr_ibody_header)
        src.corrupt(what + ": " + std::to_string(shared) +
                    " shared xattrs do not fit the inode's xattr area");
    auto add = [&](Xattr x) {
        if (out.size() >= k_max_xattrs)
            src.corrupt(what + ": more than " + std::to_string(k_max_xattrs) + " xattrs");
        const std::string name = x.name;
        if (!out.emplace(std::move(x.name), std::move(x.value)).second)
            src.corrupt(what + ": xattr " + quote_untrusted(name) + " appears twice");
    };
    const ReadSuper& sb = src.super();
    const uint64_t shared_area = uint64_t{sb.xattr_blkaddr} << sb.block_bits;
    if (shared > 0) {
        std::string ids = src.read(start + k_xattr_ibody_header, uint64_t{shared} * 4,
                                   what + ": shared xattr ids");
        for (uint32_t i = 0; i < shared; ++i) {
            const uint64_t id = get_le(reinterpret_cast<const uint8_t*>(ids.data()) + 4 * i, 4);
            add(read_entry(src, shared_area + id * 4, src.size(), what + ": shared xattr"));
        }
    }
    for (uint64_t at = start + k_xattr_ibody_header + uint64_t{shared} * 4; at < end;) {
        Xattr x = read_entry(src, at, end, what);
        at += x.size;
        add(std::move(x));
    }
    return out;
}

} // namespace sysext::erofs

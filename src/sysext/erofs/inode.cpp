#include "sysext/erofs/inode.hpp"

#include "sysext/erofs/indexes.hpp"

#include "sysext/util/error.hpp"

#include <sys/stat.h>

namespace sysext::erofs {

using tree::NodeType;

namespace {
uint64_t align8(uint64_t n) {
    return (n + 7) & ~uint64_t{7};
}
} // namespace

uint64_t InodeInfo::record_size() const {
    switch (layout) {
    case Layout::FlatInline:
        return header_size() + inline_data.size();
    case Layout::ChunkBased:
        return header_size() + 4 * chunks.size();
    case Layout::CompressedFull:
        if (whole_fragment)
            return align8(header_size()) + 16;
        return align8(header_size()) + full_indexes_size(size) + inline_data.size();
    case Layout::CompressedCompact:
        return align8(header_size()) + compact_indexes_size(size, header_size()) +
               inline_data.size();
    default:
        return header_size();
    }
}

bool needs_extended(const tree::Node& n, uint64_t size, uint64_t build_time) {
    return n.uid > 0xFFFF || n.gid > 0xFFFF || n.link_count > 0xFFFF || size > 0xFFFFFFFFull ||
           n.mtime != build_time;
}

uint16_t mode_type(NodeType t) {
    switch (t) {
    case NodeType::Directory:
        return S_IFDIR;
    case NodeType::File:
        return S_IFREG;
    case NodeType::Symlink:
        return S_IFLNK;
    case NodeType::Fifo:
        return S_IFIFO;
    case NodeType::Socket:
        return S_IFSOCK;
    case NodeType::CharDevice:
        return S_IFCHR;
    case NodeType::BlockDevice:
        return S_IFBLK;
    }
    return 0;
}

uint8_t dirent_type(NodeType t) {
    switch (t) {
    case NodeType::Directory:
        return k_ft_dir;
    case NodeType::File:
        return k_ft_reg;
    case NodeType::Symlink:
        return k_ft_symlink;
    case NodeType::Fifo:
        return k_ft_fifo;
    case NodeType::Socket:
        return k_ft_sock;
    case NodeType::CharDevice:
        return k_ft_chrdev;
    case NodeType::BlockDevice:
        return k_ft_blkdev;
    }
    return k_ft_unknown;
}

std::string encode_record(const InodeInfo& info, bool big_pcluster, uint8_t algorithm) {
    const tree::Node& n = *info.node;
    std::string out(info.inode_size(), '\0');
    auto* p = reinterpret_cast<uint8_t*>(out.data());
    const uint16_t format =
        static_cast<uint16_t>((static_cast<uint16_t>(info.layout) << 1) | (info.extended ? 1 : 0));
    const uint32_t icount = info.xattr_size ? (info.xattr_size - k_xattr_ibody_header) / 4 + 1 : 0;
    if (icount > 0xFFFF)
        throw_input(n.path() + ": extended attributes take more room than an EROFS inode has");
    const uint16_t mode = static_cast<uint16_t>(mode_type(n.type) | (n.mode & 07777));
    put16(p + 0, format);
    put16(p + 2, static_cast<uint16_t>(icount));
    put16(p + 4, mode);
    if (info.extended) {
        put64(p + 8, info.size);
        put32(p + 16, info.i_u);
        put32(p + 20, info.ino);
        put32(p + 24, n.uid);
        put32(p + 28, n.gid);
        put64(p + 32, n.mtime);
        put32(p + 40, 0); // nanoseconds
        put32(p + 44, n.link_count);
    } else {
        put16(p + 6, static_cast<uint16_t>(n.link_count));
        put32(p + 8, static_cast<uint32_t>(info.size));
        put32(p + 16, info.i_u);
        put32(p + 20, info.ino);
        put16(p + 24, static_cast<uint16_t>(n.uid));
        put16(p + 26, static_cast<uint16_t>(n.gid));
    }
    out += info.xattrs;
    MapHeader header;
    header.tail_size = static_cast<uint16_t>(info.inline_data.size());
    header.algorithm = algorithm;
    header.fragment = info.tail_fragment;
    header.fragment_off = info.fragment_off;
    switch (info.layout) {
    case Layout::FlatInline:
        out += info.inline_data;
        break;
    case Layout::ChunkBased:
        for (uint32_t addr : info.chunks) {
            uint8_t b[4];
            put32(b, addr);
            out.append(reinterpret_cast<const char*>(b), 4);
        }
        break;
    case Layout::CompressedFull:
        out.resize(align8(out.size()), '\0');
        if (info.whole_fragment)
            out += encode_whole_fragment(info.fragment_off);
        else
            out += encode_full_indexes(info.extents, info.size, big_pcluster, header);
        out += info.inline_data; // the tail extent follows the last index
        break;
    case Layout::CompressedCompact:
        out.resize(align8(out.size()), '\0');
        out += encode_compact_indexes(info.extents, info.size, info.header_size(), header);
        out += info.inline_data;
        break;
    default:
        break;
    }
    if (out.size() != info.record_size())
        throw Error(ErrorKind::Internal, n.path() + ": EROFS inode record of " +
                                             std::to_string(out.size()) + " bytes, expected " +
                                             std::to_string(info.record_size()));
    return out;
}

} // namespace sysext::erofs

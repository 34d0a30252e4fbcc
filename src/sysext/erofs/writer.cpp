#include "sysext/erofs/writer.hpp"

#include "sysext/erofs/data.hpp"
#include "sysext/erofs/dirents.hpp"
#include "sysext/erofs/inode.hpp"
#include "sysext/erofs/meta_layout.hpp"
#include "sysext/erofs/xattrs.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <sys/sysmacros.h>
#include <unordered_map>

namespace sysext::erofs {

using tree::Node;
using tree::NodeType;

namespace {

class ImageWriter {
public:
    ImageWriter(const tree::Tree& tree, int fd, const WriterOptions& options, Reporter& reporter)
        : m_tree(tree), m_fd(fd), m_options(options), m_reporter(reporter) {}

    WriteStats run() {
        collect();
        size_inodes();
        const bool fragments = m_options.fragments && m_options.compression.enabled();
        if (fragments) {
            // The packed inode: a regular file in no directory, last.
            m_packed_node.name = "(packed inode)";
            m_packed_node.mode = 0;
            m_packed_node.mtime = m_options.mtime;
            InodeInfo info;
            info.node = &m_packed_node;
            info.ino = static_cast<uint32_t>(m_inodes.size() + 1);
            m_inodes.push_back(std::move(info));
        }
        // Pointers into m_inodes from here on: it does not grow any more.
        InodeInfo* packed = fragments ? &m_inodes.back() : nullptr;
        std::vector<InodeInfo*> files;
        for (auto& info : m_inodes)
            if (info.node->type == NodeType::File && &info != packed)
                files.push_back(&info);
        uint32_t next = write_file_data(files, packed, m_fd, 1, m_options, m_reporter, m_stats);
        if (packed && packed->size == 0)
            m_inodes.pop_back(); // no fragments after all
        else if (packed)
            packed->extended = needs_extended(m_packed_node, packed->size, m_options.mtime);
        m_reporter.stage("writing metadata");
        next = write_shared_xattrs(next);
        place_metadata(next);
        write_metadata_and_directories();
        write_superblock();
        return m_stats;
    }

private:
    // Every inode once, in the tree's depth-first order of first names: the
    // root first, file data in the same order as the squashfs writer's.
    void collect() {
        m_tree.walk([&](const Node& n) {
            const Node& inode = n.inode();
            if (m_index.count(&inode))
                return;
            m_index[&inode] = m_inodes.size();
            InodeInfo info;
            info.node = &inode;
            info.ino = static_cast<uint32_t>(m_inodes.size() + 1);
            m_inodes.push_back(std::move(info));
            if (m_options.xattrs)
                m_xattrs.count(inode.xattrs, inode.path());
        });
        m_xattrs.finish();
    }

    std::vector<DirEntry> dir_entries(const Node& dir) const {
        std::vector<DirEntry> entries;
        const Node& parent = dir.parent ? *dir.parent : dir;
        entries.push_back({".", m_inodes[m_index.at(&dir)].nid, k_ft_dir});
        entries.push_back({"..", m_inodes[m_index.at(&parent)].nid, k_ft_dir});
        for (const auto& [name, child] : dir.children) {
            const Node& target = child->inode();
            entries.push_back({name, m_inodes[m_index.at(&target)].nid, dirent_type(target.type)});
        }
        return entries;
    }

    // Sizes, inode forms and xattrs: all a record's size needs but file data.
    void size_inodes() {
        for (auto& info : m_inodes) {
            const Node& n = *info.node;
            if (m_options.xattrs) {
                info.xattr_size = m_xattrs.ibody_size(n.xattrs);
                info.xattrs = m_xattrs.ibody(n.xattrs);
            }
            switch (n.type) {
            case NodeType::File:
                info.size = n.content.size;
                break;
            case NodeType::Symlink:
                info.size = n.link_target.size();
                break;
            case NodeType::Directory:
                info.size = encode_directory(dir_entries(n)).size();
                break;
            case NodeType::CharDevice:
            case NodeType::BlockDevice: {
                const auto major = ::major(static_cast<dev_t>(n.rdev));
                const auto minor = ::minor(static_cast<dev_t>(n.rdev));
                info.i_u =
                    static_cast<uint32_t>((minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12));
                break;
            }
            default:
                info.i_u = 0;
                break;
            }
            info.extended = needs_extended(n, info.size, m_options.mtime);
        }
    }

    uint32_t write_shared_xattrs(uint32_t next) {
        const std::string& area = m_xattrs.shared_area();
        if (area.empty())
            return next;
        m_xattr_blkaddr = next;
        DataArea out(m_fd, next);
        out.put(area.data(), area.size());
        out.flush();
        return out.next();
    }

    // Inline tails of directories and symlinks, then every record's place:
    // nids are known from here on.
    void place_metadata(uint32_t meta_blkaddr) {
        m_meta_blkaddr = meta_blkaddr;
        MetaLayout layout;
        for (auto& info : m_inodes) {
            const Node& n = *info.node;
            if (n.is_dir() || n.type == NodeType::Symlink) {
                const uint64_t tail = info.size % k_block;
                info.layout = tail && info.header_size() + tail <= k_block ? Layout::FlatInline
                                                                           : Layout::FlatPlain;
                if (info.layout == Layout::FlatInline) {
                    info.inline_data.assign(tail, '\0'); // the bytes come once nids are known
                    ++m_stats.inline_tails;
                }
            }
            info.nid = layout.place(info.record_size()) / k_slot;
        }
        m_meta_blocks = static_cast<uint32_t>(layout.blocks());
    }

    void write_metadata_and_directories() {
        std::string meta(uint64_t{m_meta_blocks} * k_block, '\0');
        DataArea late(m_fd, m_meta_blkaddr + m_meta_blocks);
        const bool big = m_options.compression.enabled() && m_options.pcluster_size > k_block;
        for (auto& info : m_inodes) {
            const Node& n = *info.node;
            if (n.is_dir() || n.type == NodeType::Symlink) {
                std::string bytes = n.is_dir() ? encode_directory(dir_entries(n)) : n.link_target;
                const size_t blocked = info.layout == Layout::FlatInline
                                           ? bytes.size() - info.inline_data.size()
                                           : bytes.size();
                info.i_u = blocked ? late.put(bytes.data(), blocked) : k_null_addr;
                if (info.layout == Layout::FlatInline)
                    info.inline_data = bytes.substr(blocked);
            }
            std::string record = encode_record(info, big, m_options.compression.format_id());
            std::copy(record.begin(), record.end(),
                      meta.begin() + static_cast<ptrdiff_t>(info.nid * k_slot));
        }
        pwrite_all(m_fd, meta.data(), meta.size(), uint64_t{m_meta_blkaddr} * k_block,
                   "writing the image");
        late.flush();
        m_blocks = late.next();
    }

    void write_superblock() {
        SuperBlock sb;
        sb.root_nid = m_inodes.front().nid;
        sb.inodes = m_inodes.size();
        sb.build_time = m_options.mtime;
        sb.blocks = m_blocks;
        sb.meta_blkaddr = m_meta_blkaddr;
        sb.xattr_blkaddr = m_xattr_blkaddr;
        if (m_options.compression.enabled()) {
            sb.feature_incompat |= k_incompat_zero_padding | k_incompat_compr_cfgs;
            if (m_options.compression.algorithm == Compression::Algorithm::Lzma) {
                sb.lzma_config = true;
                sb.lzma_dict_size = lzma_dict_size(m_options.pcluster_size);
            } else if (m_options.compression.algorithm == Compression::Algorithm::Zstd) {
                sb.zstd_config = true;
                sb.zstd_window_log = static_cast<uint8_t>(zstd_window_log(m_options.pcluster_size));
            } else {
                sb.lz4_config = true;
                sb.lz4_max_pclusterblks = static_cast<uint16_t>(m_options.pcluster_size / k_block);
            }
        }
        if (m_options.fragments && m_inodes.back().node == &m_packed_node) {
            sb.feature_incompat |= k_incompat_fragments;
            sb.packed_nid = m_inodes.back().nid;
        }
        for (const auto& info : m_inodes) {
            if (info.layout == Layout::ChunkBased)
                sb.feature_incompat |= k_incompat_chunked_file;
            const bool compressed =
                info.layout == Layout::CompressedFull || info.layout == Layout::CompressedCompact;
            if (compressed && !info.inline_data.empty())
                sb.feature_incompat |= k_incompat_ztailpacking;
        }
        std::string block0 = encode_block0(sb);
        pwrite_all(m_fd, block0.data(), block0.size(), 0, "writing the image");
        m_stats.image_bytes = uint64_t{m_blocks} * k_block;
        m_stats.inodes = m_inodes.size();
    }

    const tree::Tree& m_tree;
    int m_fd;
    const WriterOptions& m_options;
    Reporter& m_reporter;
    std::vector<InodeInfo> m_inodes;
    Node m_packed_node; // FRAGMENTS: the packed inode's (it has no name in the tree)
    std::unordered_map<const Node*, size_t> m_index;
    XattrTable m_xattrs;
    uint32_t m_xattr_blkaddr = 0;
    uint32_t m_meta_blkaddr = 0;
    uint32_t m_meta_blocks = 0;
    uint32_t m_blocks = 0;
    WriteStats m_stats;
};

} // namespace

WriteStats write_image(const tree::Tree& tree, int fd, const WriterOptions& options,
                       Reporter& reporter) {
    if (options.compression.enabled())
        check_pcluster_size(options.pcluster_size, "--erofs-pcluster");
    ImageWriter writer(tree, fd, options, reporter);
    return writer.run();
}

} // namespace sysext::erofs

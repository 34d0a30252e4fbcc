#include "sysext/squashfs/writer.hpp"

#include "sysext/squashfs/compressor.hpp"
#include "sysext/squashfs/sqfs_handles.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/cores.hpp"
#include "sysext/util/error.hpp"

#include <cstring>
#include <sys/stat.h>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sysext::squashfs {

using tree::Node;
using tree::NodeType;

namespace {

constexpr uint32_t k_devblk = 4096;
constexpr uint32_t k_no_xattr = 0xFFFFFFFF;

uint16_t type_bits(NodeType t) {
    switch (t) {
    case NodeType::Directory: return S_IFDIR;
    case NodeType::File: return S_IFREG;
    case NodeType::Symlink: return S_IFLNK;
    case NodeType::Fifo: return S_IFIFO;
    case NodeType::Socket: return S_IFSOCK;
    case NodeType::CharDevice: return S_IFCHR;
    case NodeType::BlockDevice: return S_IFBLK;
    }
    return 0;
}

// Per-inode state kept between the data pass and the table pass.
struct InodeSlot {
    uint32_t number = 0;
    uint64_t ref = 0;                   // (metadata block << 16) | offset, once written
    sqfs_inode_generic_t* file = nullptr; // filled in by the block processor
    bool fed = false;                     // its data has been given to the block processor
};

class ImageWriter {
public:
    ImageWriter(const tree::Tree& tree, int fd, const WriterOptions& options, Reporter& reporter)
        : m_tree(tree), m_options(options), m_reporter(reporter),
          m_file(make_fd_file(fd, "image")) {}

    ~ImageWriter() {
        // After a failure, blocks still with the workers are freed only once
        // taken back: drain them (into the temporary file, which is discarded).
        // Workers may still hold pointers to file inodes: stop them first.
        if (m_proc && !m_data_done)
            sqfs_block_processor_sync(m_proc.get());
        m_proc.reset();
        for (auto& [node, slot] : m_slots)
            std::free(slot.file);
    }

    WriteStats run() {
        // Ordering decides the bytes: number inodes first, then feed data.
        number_inodes(m_tree.root());
        open_writers();
        write_data();
        write_tables();
        return m_stats;
    }

private:
    // Post-order numbering: every entry of a directory has its inode written
    // before the directory's own, which needs their references.
    void number_inodes(const Node& dir) {
        for (const auto& [name, child] : dir.children) {
            if (child->is_dir())
                number_inodes(*child);
            else
                place(child->inode());
        }
        place(dir);
    }

    void place(const Node& n) {
        auto& slot = m_slots[&n];
        if (slot.number != 0)
            return; // a hard link's inode, placed at its first name
        slot.number = static_cast<uint32_t>(m_order.size() + 1);
        m_order.push_back(&n);
    }

    void open_writers() {
        sqfs_compressor_config_t cfg;
        const auto id = static_cast<SQFS_COMPRESSOR>(m_options.compression.algorithm);
        uint16_t flags = 0;
        if (m_options.compression.algorithm == Algorithm::Lz4 && m_options.compression.level)
            flags |= SQFS_COMP_FLAG_LZ4_HC;
        check(sqfs_compressor_config_init(&cfg, id, m_options.block_size, flags),
              "configuring the " + m_options.compression.to_string() + " compressor");
        if (m_options.compression.algorithm != Algorithm::Lz4)
            cfg.level = m_options.compression.level;
        sqfs_compressor_t* cmp = nullptr;
        check(sqfs_compressor_create(&cfg, &cmp), "creating the compressor");
        m_cmp = wrap_compressor(SqfsPtr<sqfs_compressor_t>(cmp));
        // Data and fragment blocks are the cost worth caching; metadata blocks
        // are small and change with every rebuild.
        check(sqfs_compressor_create(&cfg, &cmp), "creating the compressor");
        m_data_cmp = wrap_compressor(SqfsPtr<sqfs_compressor_t>(cmp), m_options.cache);
        cfg.flags |= SQFS_COMP_FLAG_UNCOMPRESS;
        check(sqfs_compressor_create(&cfg, &cmp), "creating the decompressor");
        m_uncmp.reset(cmp);

        check(sqfs_super_init(&m_super, m_options.block_size, m_options.mtime, id),
              "initialising the superblock");
        check(sqfs_super_write(&m_super, m_file.get()), "writing the superblock");
        int ret = m_cmp->write_options(m_cmp.get(), m_file.get());
        if (ret < 0)
            check(ret, "writing compressor options");
        if (ret > 0)
            m_super.flags |= SQFS_FLAG_COMPRESSOR_OPTIONS;

        m_blkwr.reset(sqfs_block_writer_create(m_file.get(), k_devblk, 0));
        m_fragtbl.reset(sqfs_frag_table_create(0));
        m_idtbl.reset(sqfs_id_table_create(0));
        m_xwr.reset(sqfs_xattr_writer_create(0));
        if (!m_blkwr || !m_fragtbl || !m_idtbl || !m_xwr)
            throw Error(ErrorKind::Internal, "out of memory creating squashfs writers");

        sqfs_block_processor_desc_t desc;
        std::memset(&desc, 0, sizeof desc);
        desc.size = sizeof desc;
        desc.max_block_size = m_options.block_size;
        desc.num_workers = m_options.jobs ? m_options.jobs : usable_cores();
        // Enough blocks in flight to keep every worker busy while the reader
        // waits on I/O, few enough to keep memory small.
        desc.max_backlog = desc.num_workers * 8;
        desc.cmp = m_data_cmp.get();
        desc.wr = m_blkwr.get();
        desc.tbl = m_fragtbl.get();
        desc.file = m_file.get();
        desc.uncmp = m_uncmp.get();
        sqfs_block_processor_t* proc = nullptr;
        check(sqfs_block_processor_create_ex(&desc, &proc), "creating the block processor");
        m_proc.reset(proc);
    }

    uint64_t total_input() const {
        uint64_t total = 0;
        for (const Node* n : m_order)
            if (n->type == NodeType::File)
                total += n->content.size;
        return total;
    }

    // File data in depth-first bytewise order of first names, so a directory and
    // an archive of the same tree give the same bytes.
    void write_data() {
        m_reporter.stage("compressing");
        const uint64_t total = total_input();
        uint64_t done = 0;
        std::vector<const Node*> files;
        m_tree.walk([&](const Node& n) {
            if (n.type == NodeType::File) {
                const Node& inode = n.inode();
                auto& slot = m_slots.at(&inode);
                if (!slot.fed) {
                    slot.fed = true;
                    files.push_back(&inode);
                }
            }
        });
        for (const Node* f : files) {
            auto& slot = m_slots[f];
            // Files under one block always share fragment blocks. The tail of a
            // longer file gets a block of its own unless tail packing is on, as
            // mksquashfs does by default: measured smaller at zstd 3 and about
            // even at zstd 15 on shared-library trees.
            sqfs_u32 flags = 0;
            if (!m_options.tail_packing && f->content.size > m_options.block_size)
                flags |= SQFS_BLK_DONT_FRAGMENT;
            check(sqfs_block_processor_begin_file(m_proc.get(), &slot.file, nullptr, flags),
                  f->path() + ": starting file data");
            tree::read_content(*f, [&](const void* data, size_t size) {
                check(sqfs_block_processor_append(m_proc.get(), data, size),
                      f->path() + ": adding file data");
                done += size;
                m_reporter.progress(done, total);
            });
            check(sqfs_block_processor_end_file(m_proc.get()), f->path() + ": ending file data");
        }
        check(sqfs_block_processor_finish(m_proc.get()), "finishing data blocks");
        m_data_done = true;
        m_stats.input_bytes = done;
        const auto* st = sqfs_block_processor_get_stats(m_proc.get());
        m_stats.data_blocks = st->data_block_count;
        m_stats.fragment_blocks = st->frag_block_count;
        m_stats.sparse_blocks = st->sparse_block_count;
        m_stats.fragments = st->actual_frag_count;
        m_stats.duplicate_fragments = st->total_frag_count - st->actual_frag_count;
        m_stats.blocks_written = m_blkwr->get_block_count(m_blkwr.get());
    }

    uint32_t xattr_index(const Node& n) {
        if (!m_options.xattrs || n.xattrs.empty())
            return k_no_xattr;
        check(sqfs_xattr_writer_begin(m_xwr.get(), 0), "recording xattrs");
        for (const auto& x : n.xattrs)
            check(sqfs_xattr_writer_add(m_xwr.get(), x.key.c_str(), x.value.data(), x.value.size()),
                  n.path() + ": xattr " + x.key);
        uint32_t idx = k_no_xattr;
        check(sqfs_xattr_writer_end(m_xwr.get(), &idx), n.path() + ": recording xattrs");
        return idx;
    }

    InodePtr make_dir_inode(const Node& dir, uint32_t xattr) {
        check(sqfs_dir_writer_begin(m_dirwr.get(), 0), dir.path() + ": directory");
        for (const auto& [name, child] : dir.children) {
            const Node& target = child->inode();
            const auto& slot = m_slots.at(&target);
            check(sqfs_dir_writer_add_entry(m_dirwr.get(), name.c_str(), slot.number, slot.ref,
                                            type_bits(target.type) | (target.mode & 07777)),
                  dir.path() + "/" + name + ": directory entry");
        }
        check(sqfs_dir_writer_end(m_dirwr.get()), dir.path() + ": directory");
        uint32_t parent = dir.parent ? m_slots.at(dir.parent).number : m_order.size() + 1;
        InodePtr inode(sqfs_dir_writer_create_inode(m_dirwr.get(), 0, xattr, parent));
        if (!inode)
            throw Error(ErrorKind::Internal, "out of memory creating a directory inode");
        if (inode->base.type == SQFS_INODE_DIR)
            inode->data.dir.nlink = dir.link_count;
        else
            inode->data.dir_ext.nlink = dir.link_count;
        return inode;
    }

    InodePtr make_other_inode(const Node& n) {
        size_t extra = n.type == NodeType::Symlink ? n.link_target.size() : 0;
        InodePtr inode(static_cast<sqfs_inode_generic_t*>(
            std::calloc(1, sizeof(sqfs_inode_generic_t) + extra)));
        if (!inode)
            throw Error(ErrorKind::Internal, "out of memory creating an inode");
        switch (n.type) {
        case NodeType::Symlink:
            inode->base.type = SQFS_INODE_SLINK;
            inode->data.slink.nlink = n.link_count;
            inode->data.slink.target_size = static_cast<uint32_t>(extra);
            inode->payload_bytes_available = static_cast<uint32_t>(extra);
            inode->payload_bytes_used = static_cast<uint32_t>(extra);
            std::memcpy(inode->extra, n.link_target.data(), extra);
            break;
        case NodeType::Fifo:
        case NodeType::Socket:
            inode->base.type = n.type == NodeType::Fifo ? SQFS_INODE_FIFO : SQFS_INODE_SOCKET;
            inode->data.ipc.nlink = n.link_count;
            break;
        case NodeType::CharDevice:
        case NodeType::BlockDevice:
            inode->base.type = n.type == NodeType::CharDevice ? SQFS_INODE_CDEV : SQFS_INODE_BDEV;
            inode->data.dev.nlink = n.link_count;
            inode->data.dev.devno = static_cast<uint32_t>(n.rdev);
            break;
        default:
            throw Error(ErrorKind::Internal, n.path() + ": unexpected node type");
        }
        return inode;
    }

    void write_inode(const Node& n) {
        auto& slot = m_slots.at(&n);
        uint32_t xattr = xattr_index(n);
        InodePtr inode;
        if (n.is_dir()) {
            inode = make_dir_inode(n, xattr);
        } else if (n.type == NodeType::File) {
            inode.reset(std::exchange(slot.file, nullptr));
            if (n.link_count > 1) {
                check(sqfs_inode_make_extended(inode.get()), n.path() + ": inode");
                inode->data.file_ext.nlink = n.link_count;
            }
        } else {
            inode = make_other_inode(n);
        }
        inode->base.mode = static_cast<uint16_t>(type_bits(n.type) | (n.mode & 07777));
        inode->base.mod_time = n.mtime;
        inode->base.inode_number = slot.number;
        if (!n.is_dir())
            check(sqfs_inode_set_xattr_index(inode.get(), xattr), n.path() + ": inode xattrs");
        check(sqfs_id_table_id_to_index(m_idtbl.get(), n.uid, &inode->base.uid_idx),
              n.path() + ": owner");
        check(sqfs_id_table_id_to_index(m_idtbl.get(), n.gid, &inode->base.gid_idx),
              n.path() + ": group");
        sqfs_u64 block = 0;
        sqfs_u32 offset = 0;
        sqfs_meta_writer_get_position(m_im.get(), &block, &offset);
        slot.ref = (block << 16) | offset;
        check(sqfs_meta_writer_write_inode(m_im.get(), inode.get()), n.path() + ": writing inode");
    }

    void write_tables() {
        m_reporter.stage("writing tables");
        m_im.reset(sqfs_meta_writer_create(m_file.get(), m_cmp.get(), 0));
        m_dm.reset(sqfs_meta_writer_create(m_file.get(), m_cmp.get(),
                                           SQFS_META_WRITER_KEEP_IN_MEMORY));
        if (!m_im || !m_dm)
            throw Error(ErrorKind::Internal, "out of memory creating metadata writers");
        m_dirwr.reset(sqfs_dir_writer_create(m_dm.get(), 0));
        if (!m_dirwr)
            throw Error(ErrorKind::Internal, "out of memory creating the directory writer");

        m_super.inode_table_start = m_file->get_size(m_file.get());
        for (const Node* n : m_order)
            write_inode(*n);
        check(sqfs_meta_writer_flush(m_im.get()), "writing the inode table");
        check(sqfs_meta_writer_flush(m_dm.get()), "writing the directory table");
        m_super.root_inode_ref = m_slots.at(&m_tree.root()).ref;
        m_super.directory_table_start = m_file->get_size(m_file.get());
        check(sqfs_meta_write_write_to_file(m_dm.get()), "writing the directory table");
        m_super.inode_count = static_cast<uint32_t>(m_order.size());

        check(sqfs_frag_table_write(m_fragtbl.get(), m_file.get(), &m_super, m_cmp.get()),
              "writing the fragment table");
        check(sqfs_id_table_write(m_idtbl.get(), m_file.get(), &m_super, m_cmp.get()),
              "writing the ID table");
        check(sqfs_xattr_writer_flush(m_xwr.get(), m_file.get(), &m_super, m_cmp.get()),
              "writing the xattr table");
        m_super.bytes_used = m_file->get_size(m_file.get());
        check(sqfs_super_write(&m_super, m_file.get()), "updating the superblock");

        // Padded to whole 4 KiB blocks: loop devices and Flatcar's payloads need it.
        uint64_t size = m_super.bytes_used;
        if (size % k_devblk != 0) {
            std::vector<char> zeros(k_devblk - size % k_devblk, 0);
            check(m_file->write_at(m_file.get(), size, zeros.data(), zeros.size()),
                  "padding the image");
        }
        m_stats.image_bytes = m_file->get_size(m_file.get());
        m_stats.inodes = m_order.size();
    }

    const tree::Tree& m_tree;
    const WriterOptions& m_options;
    Reporter& m_reporter;
    SqfsPtr<sqfs_file_t> m_file;
    SqfsPtr<sqfs_compressor_t> m_cmp, m_data_cmp, m_uncmp;
    SqfsPtr<sqfs_block_writer_t> m_blkwr;
    SqfsPtr<sqfs_frag_table_t> m_fragtbl;
    SqfsPtr<sqfs_id_table_t> m_idtbl;
    SqfsPtr<sqfs_xattr_writer_t> m_xwr;
    SqfsPtr<sqfs_block_processor_t> m_proc;
    SqfsPtr<sqfs_meta_writer_t> m_im, m_dm;
    SqfsPtr<sqfs_dir_writer_t> m_dirwr;
    sqfs_super_t m_super{};
    std::unordered_map<const Node*, InodeSlot> m_slots;
    std::vector<const Node*> m_order;
    WriteStats m_stats;
    bool m_data_done = false; // every block is written: nothing left with the workers
};

} // namespace

WriteStats write_image(const tree::Tree& tree, int fd, const WriterOptions& options,
                       Reporter& reporter) {
    ImageWriter writer(tree, fd, options, reporter);
    return writer.run();
}

} // namespace sysext::squashfs

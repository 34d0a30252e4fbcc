#include "sysext/squashfs/image_source.hpp"

#include "sysext/squashfs/reader.hpp"
#include "sysext/util/endian.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/xattr.h>

#include <fcntl.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>
#include <vector>

namespace sysext::squashfs {

namespace {

// A read-only window [offset, offset+size) of a file, so that an image inside
// a disk image reads as if it began at byte 0.
struct WindowFile {
    sqfs_file_t base; // first member: libsquashfs casts between the two
    int fd;
    uint64_t offset;
    uint64_t size;
};

WindowFile* window(sqfs_file_t* f) {
    return reinterpret_cast<WindowFile*>(f);
}

void window_destroy(sqfs_object_t* obj) {
    delete reinterpret_cast<WindowFile*>(obj);
}

int window_read_at(sqfs_file_t* f, sqfs_u64 offset, void* buffer, size_t size) {
    WindowFile* w = window(f);
    if (offset > w->size || size > w->size - offset)
        return SQFS_ERROR_OUT_OF_BOUNDS;
    return pread_exact(w->fd, buffer, size, w->offset + offset) ? 0 : SQFS_ERROR_IO;
}

int window_write_at(sqfs_file_t*, sqfs_u64, const void*, size_t) {
    return SQFS_ERROR_UNSUPPORTED;
}
int window_truncate(sqfs_file_t*, sqfs_u64) {
    return SQFS_ERROR_UNSUPPORTED;
}
sqfs_u64 window_get_size(const sqfs_file_t* f) {
    return reinterpret_cast<const WindowFile*>(f)->size;
}

SqfsPtr<sqfs_file_t> make_window(int fd, uint64_t offset, uint64_t size) {
    auto* w = new WindowFile{};
    w->base.base.destroy = window_destroy;
    w->base.base.copy = nullptr;
    w->base.read_at = window_read_at;
    w->base.write_at = window_write_at;
    w->base.get_size = window_get_size;
    w->base.truncate = window_truncate;
    w->fd = fd;
    w->offset = offset;
    w->size = size;
    return SqfsPtr<sqfs_file_t>(&w->base);
}

// An uncompressed meta data block holds at most 8 KiB and takes at least a
// 2-byte header and one byte on disk, so a table of n bytes on disk decodes
// to less than n * 4096 bytes. No honest inode or table claims more.
constexpr uint64_t k_max_expansion = SQFS_META_BLOCK_SIZE / 2;

} // namespace

ImageSource::ImageSource(const std::string& path, uint64_t offset, uint64_t size)
    : ImageSource(open_or_throw(path, O_RDONLY | O_CLOEXEC), path, offset, size) {}

ImageSource::ImageSource(int fd, const std::string& name, uint64_t offset, uint64_t size)
    : ImageSource(duplicate(fd, name), name, offset, size) {}

Fd ImageSource::duplicate(int fd, const std::string& name) {
    Fd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!copy.valid())
        throw_errno(name);
    return copy;
}

ImageSource::ImageSource(Fd fd, const std::string& name, uint64_t offset, uint64_t size)
    : m_name(name), m_fd(std::move(fd)) {
    const std::string& path = m_name;
    struct stat st {};
    if (::fstat(m_fd.get(), &st) != 0)
        throw_errno(path);
    uint64_t file_size = static_cast<uint64_t>(st.st_size);
    if (offset > file_size)
        throw_input(path + ": image offset " + std::to_string(offset) +
                    " lies beyond the end of the file (" + std::to_string(file_size) + " bytes)");
    if (size == 0)
        size = file_size - offset;
    if (size > file_size - offset)
        throw_input(path + ": image of " + std::to_string(size) + " bytes at offset " +
                    std::to_string(offset) + " runs past the end of the file (" +
                    std::to_string(file_size) + " bytes)");
    m_file = make_window(m_fd.get(), offset, size);

    int ret = sqfs_super_read(&m_super, m_file.get());
    if (ret == SQFS_ERROR_OUT_OF_BOUNDS)
        corrupt("too short for a squashfs superblock (" + std::to_string(size) + " bytes)");
    if (ret != 0)
        fail("reading the superblock", ret);
    const sqfs_super_t& s = m_super;
    if (s.bytes_used > size)
        corrupt("truncated: the superblock says the image has " + std::to_string(s.bytes_used) +
                " bytes, only " + std::to_string(size) + " are there");
    if (!(sizeof(sqfs_super_t) <= s.inode_table_start &&
          s.inode_table_start < s.directory_table_start && s.directory_table_start < s.bytes_used &&
          s.id_table_start < s.bytes_used))
        corrupt("superblock tables are out of order or out of bounds");
    uint64_t frag_locations =
        (static_cast<uint64_t>(s.fragment_entry_count) * 16 + SQFS_META_BLOCK_SIZE - 1) /
        SQFS_META_BLOCK_SIZE * 8;
    if (s.fragment_entry_count > 0 && (s.fragment_table_start >= s.bytes_used ||
                                       frag_locations > s.bytes_used - s.fragment_table_start))
        corrupt("fragment table of " + std::to_string(s.fragment_entry_count) +
                " entries does not fit the image");
    // Fragment blocks hold the tails of files: no more of them than entries. Else
    // libsquashfs allocates and fills a table the size the superblock claims,
    // whose index may name one small meta data block many times over.
    if (s.fragment_entry_count > k_max_entries)
        corrupt("fragment table of " + std::to_string(s.fragment_entry_count) +
                " entries; an image has at most " + std::to_string(k_max_entries));

    sqfs_compressor_config_t cfg{};
    ret = sqfs_compressor_config_init(&cfg, static_cast<SQFS_COMPRESSOR>(s.compression_id),
                                      s.block_size, SQFS_COMP_FLAG_UNCOMPRESS);
    sqfs_compressor_t* cmp = nullptr;
    if (ret == 0)
        ret = sqfs_compressor_create(&cfg, &cmp);
    if (ret != 0)
        fail("compressor " + std::to_string(s.compression_id), ret);
    m_compressor.reset(cmp);

    m_ids.reset(sqfs_id_table_create(0));
    if (!m_ids)
        fail("ID table", SQFS_ERROR_ALLOC);
    ret = sqfs_id_table_read(m_ids.get(), m_file.get(), &m_super, cmp);
    if (ret != 0)
        fail("reading the ID table", ret);

    m_inodes.reset(
        sqfs_meta_reader_create(m_file.get(), cmp, s.inode_table_start, s.directory_table_start));
    uint64_t dir_limit = s.id_table_start;
    if (s.fragment_table_start < dir_limit)
        dir_limit = s.fragment_table_start;
    if (s.export_table_start < dir_limit)
        dir_limit = s.export_table_start;
    if (dir_limit <= s.directory_table_start)
        corrupt("directory table is out of bounds");
    m_dirs.reset(sqfs_meta_reader_create(m_file.get(), cmp, s.directory_table_start, dir_limit));
    if (!m_inodes || !m_dirs)
        fail("meta data readers", SQFS_ERROR_ALLOC);
}

uint32_t ImageSource::id(uint16_t index, const std::string& what) const {
    sqfs_u32 out = 0;
    if (sqfs_id_table_index_to_id(m_ids.get(), index, &out) != 0)
        corrupt(what + ": owner index " + std::to_string(index) + " is not in the ID table");
    return out;
}

InodePtr ImageSource::read_inode(uint64_t ref, const std::string& what) const {
    uint64_t block = m_super.inode_table_start + (ref >> 16);
    size_t offset = ref & 0xFFFF;
    int ret = sqfs_meta_reader_seek(m_inodes.get(), block, offset);
    uint8_t head[16 + 40];
    if (ret == 0)
        ret = sqfs_meta_reader_read(m_inodes.get(), head, 16);
    if (ret != 0)
        fail(what + ": reading inode", ret);
    uint64_t type = get_le(head, 2);
    uint64_t claimed = 0; // bytes libsquashfs will allocate for the inode's payload
    const uint64_t block_size = m_super.block_size;
    if (type == SQFS_INODE_FILE || type == SQFS_INODE_EXT_FILE) {
        bool ext = type == SQFS_INODE_EXT_FILE;
        ret = sqfs_meta_reader_read(m_inodes.get(), head + 16, ext ? 40 : 16);
        if (ret != 0)
            fail(what + ": reading inode", ret);
        uint64_t file_size = ext ? get_le(head + 24, 8) : get_le(head + 28, 4);
        uint64_t frag_index = ext ? get_le(head + 44, 4) : get_le(head + 20, 4);
        uint64_t frag_offset = ext ? get_le(head + 48, 4) : get_le(head + 24, 4);
        uint64_t blocks = file_size / block_size;
        if (file_size % block_size != 0 && (frag_index == 0xFFFFFFFF || frag_offset == 0xFFFFFFFF))
            ++blocks;
        claimed = blocks * 4;
    } else if (type == SQFS_INODE_SLINK || type == SQFS_INODE_EXT_SLINK) {
        ret = sqfs_meta_reader_read(m_inodes.get(), head + 16, 8);
        if (ret != 0)
            fail(what + ": reading inode", ret);
        uint64_t target_size = get_le(head + 20, 4);
        if (target_size > k_max_path)
            corrupt(what + ": symbolic link target of " + std::to_string(target_size) + " bytes");
    } else if (type == SQFS_INODE_EXT_DIR) {
        // libsquashfs reads the directory index along, each name at the size
        // the index entry claims (32 bits: 2 GiB were asked for; found by
        // fuzzing), while a name has at most 256 bytes.
        ret = sqfs_meta_reader_read(m_inodes.get(), head + 16, 24);
        for (uint64_t i = 0, n = get_le(head + 32, 2); ret == 0 && i < n; ++i) {
            uint8_t entry[12 + 256]; // index, start block, name size - 1; the name
            ret = sqfs_meta_reader_read(m_inodes.get(), entry, 12);
            const uint64_t name_size = get_le(entry + 8, 4) + 1;
            if (ret == 0 && name_size > 256)
                corrupt(what + ": directory index names a name of " + std::to_string(name_size) +
                        " bytes");
            if (ret == 0)
                ret = sqfs_meta_reader_read(m_inodes.get(), entry + 12, name_size);
        }
        if (ret != 0)
            fail(what + ": reading inode", ret);
    }
    uint64_t table = m_super.directory_table_start - m_super.inode_table_start;
    if (claimed > table * k_max_expansion)
        corrupt(what + ": inode claims " + std::to_string(claimed) +
                " bytes of block list, more than the inode table holds");

    sqfs_inode_generic_t* inode = nullptr;
    ret = sqfs_meta_reader_read_inode(m_inodes.get(), &m_super, ref >> 16, offset, &inode);
    if (ret != 0)
        fail(what + ": reading inode", ret);
    return InodePtr(inode);
}

sqfs_xattr_reader_t* ImageSource::xattrs() {
    if (m_xattrs_loaded)
        return m_xattrs.get();
    m_xattrs_loaded = true;
    if ((m_super.flags & SQFS_FLAG_NO_XATTRS) ||
        m_super.xattr_id_table_start == 0xFFFFFFFFFFFFFFFFULL)
        return nullptr;
    m_xattrs.reset(sqfs_xattr_reader_create(0));
    if (!m_xattrs)
        fail("xattr reader", SQFS_ERROR_ALLOC);
    int ret = sqfs_xattr_reader_load(m_xattrs.get(), &m_super, m_file.get(), m_compressor.get());
    uint8_t table[sizeof(sqfs_xattr_id_table_t)];
    if (ret == 0)
        ret = m_file->read_at(m_file.get(), m_super.xattr_id_table_start, table, sizeof table);
    if (ret != 0)
        fail("reading the xattr table", ret);
    m_xattr_kv_start = get_le(table, 8);
    m_xattr_kv.reset(sqfs_meta_reader_create(m_file.get(), m_compressor.get(), m_xattr_kv_start,
                                             m_super.xattr_id_table_start));
    if (!m_xattr_kv)
        fail("xattr reader", SQFS_ERROR_ALLOC);
    return m_xattrs.get();
}

void ImageSource::check_xattr_sizes(const sqfs_xattr_id_t& desc, const std::string& what) const {
    sqfs_meta_reader_t* kv = m_xattr_kv.get();
    auto seek = [&](uint64_t block, size_t offset) {
        if (int ret = sqfs_meta_reader_seek(kv, block, offset); ret != 0)
            fail(what + ": xattrs", ret);
    };
    auto read = [&](void* out, size_t size) {
        if (int ret = sqfs_meta_reader_read(kv, out, size); ret != 0)
            fail(what + ": xattrs", ret);
    };
    auto value_size = [&] {
        uint8_t size[4];
        read(size, sizeof size);
        const uint64_t n = get_le(size, 4);
        if (n > XATTR_SIZE_MAX)
            corrupt(what + ": xattr value of " + std::to_string(n) +
                    " bytes; Linux allows at most " + std::to_string(XATTR_SIZE_MAX));
        return n;
    };
    // The layout libsquashfs reads (sqfs/xattr.h): per pair a key (type, name
    // size, name) and a value (size, bytes), or, for a value stored out of
    // line, a reference to where its size and bytes are.
    std::vector<uint8_t> skipped(XATTR_SIZE_MAX);
    seek(m_xattr_kv_start + (desc.xattr >> 16), desc.xattr & 0xFFFF);
    for (uint32_t i = 0; i < desc.count; ++i) {
        uint8_t key[4];
        read(key, sizeof key);
        read(skipped.data(), get_le(key + 2, 2));
        if ((get_le(key, 2) & SQFS_XATTR_FLAG_OOL) == 0) {
            read(skipped.data(), value_size());
            continue;
        }
        uint8_t ref[4 + 8];
        read(ref, sizeof ref);
        sqfs_u64 block = 0;
        size_t offset = 0;
        sqfs_meta_reader_get_position(kv, &block, &offset);
        const uint64_t target = get_le(ref + 4, 8);
        seek(m_xattr_kv_start + (target >> 16), target & 0xFFFF);
        value_size();
        seek(block, offset);
    }
}

sqfs_data_reader_t* ImageSource::data() {
    if (m_data)
        return m_data.get();
    m_data.reset(sqfs_data_reader_create(m_file.get(), m_super.block_size, m_compressor.get(), 0));
    if (!m_data)
        fail("data reader", SQFS_ERROR_ALLOC);
    int ret = sqfs_data_reader_load_fragment_table(m_data.get(), &m_super);
    if (ret != 0) {
        m_data.reset();
        fail("reading the fragment table", ret);
    }
    return m_data.get();
}

void ImageSource::fail(const std::string& what, int ret) const {
    ErrorKind kind = ret == SQFS_ERROR_IO ? ErrorKind::Io : ErrorKind::Input;
    throw Error(kind, m_name + ": " + what + ": " + error_text(ret));
}

void ImageSource::corrupt(const std::string& what) const {
    throw_input(m_name + ": " + what);
}

} // namespace sysext::squashfs

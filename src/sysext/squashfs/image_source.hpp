// An opened squashfs image for reading: the file (possibly a window of a
// larger file, such as a partition of a disk image), its checked superblock,
// a decompressor, the ID table and meta data readers for the inode and
// directory tables. Used by reader.cpp; not a public interface.
#pragma once

#include "sysext/squashfs/sqfs_handles.hpp"
#include "sysext/util/fd.hpp"

#include <sqfs/data_reader.h>
#include <sqfs/meta_reader.h>
#include <sqfs/xattr_reader.h>

#include <cstdint>
#include <string>

namespace sysext::squashfs {

class ImageSource {
public:
    // Opens `path` and reads the superblock of the image at [offset, offset+size)
    // (size 0: to the end of the file); throws when it is not a usable image.
    ImageSource(const std::string& path, uint64_t offset, uint64_t size);
    // The same on an open file (duplicated; the caller keeps `fd`); `name` is
    // what messages call it ("DISK: root partition").
    ImageSource(int fd, const std::string& name, uint64_t offset, uint64_t size);

    const std::string& name() const { return m_name; }
    const sqfs_super_t& super() const { return m_super; }
    sqfs_file_t* file() const { return m_file.get(); }
    sqfs_compressor_t* compressor() const { return m_compressor.get(); }
    sqfs_meta_reader_t* inode_reader() const { return m_inodes.get(); }
    sqfs_meta_reader_t* dir_reader() const { return m_dirs.get(); }

    // Maps an ID table index to a uid or gid.
    uint32_t id(uint16_t index, const std::string& what) const;

    // Reads the inode at `ref` (block << 16 | offset); checks first that its
    // block list or symlink target is no larger than the inode table can hold,
    // since libsquashfs allocates what the header claims before reading.
    InodePtr read_inode(uint64_t ref, const std::string& what) const;

    // The xattr reader, created on first use (nullptr: the image has no xattrs).
    sqfs_xattr_reader_t* xattrs();
    // Checks the sizes of the values of the key/value pairs `desc` names, before
    // the xattr reader reads them: libsquashfs allocates a value at the size the
    // image claims (up to 4 GiB) first. Needs xattrs().
    void check_xattr_sizes(const sqfs_xattr_id_t& desc, const std::string& what) const;
    // The data reader with its fragment table, created on first use.
    sqfs_data_reader_t* data();

    // Throws "<name>: <what>: <libsquashfs's reason>" (Io for read failures, else Input).
    [[noreturn]] void fail(const std::string& what, int ret) const;
    // Throws "<name>: <what>" as an Input error.
    [[noreturn]] void corrupt(const std::string& what) const;

private:
    ImageSource(Fd fd, const std::string& name, uint64_t offset, uint64_t size);
    static Fd duplicate(int fd, const std::string& name);

    std::string m_name;
    Fd m_fd;
    SqfsPtr<sqfs_file_t> m_file;
    sqfs_super_t m_super{};
    SqfsPtr<sqfs_compressor_t> m_compressor;
    SqfsPtr<sqfs_id_table_t> m_ids;
    SqfsPtr<sqfs_meta_reader_t> m_inodes;
    SqfsPtr<sqfs_meta_reader_t> m_dirs;
    SqfsPtr<sqfs_xattr_reader_t> m_xattrs;
    bool m_xattrs_loaded = false;
    uint64_t m_xattr_kv_start = 0;          // where the key/value pairs begin
    SqfsPtr<sqfs_meta_reader_t> m_xattr_kv; // ours, for check_xattr_sizes
    SqfsPtr<sqfs_data_reader_t> m_data;
};

} // namespace sysext::squashfs

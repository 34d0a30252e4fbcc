#include "sysext/squashfs/sqfs_handles.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace sysext::squashfs {

namespace {

struct FdFile {
    sqfs_file_t base; // first member: libsquashfs casts between the two
    int fd;
    sqfs_u64 size;
    std::string name;
};

// The errno of the last failed read, write or truncate in these callbacks,
// kept beside libsquashfs's SQFS_ERROR_IO so that check() can say what the
// system said ("No space left on device"), not only "input/output error".
std::atomic<int> g_io_errno{0};

int io_failed() {
    g_io_errno.store(errno != 0 ? errno : EIO);
    return SQFS_ERROR_IO;
}

FdFile* self(sqfs_file_t* f) { return reinterpret_cast<FdFile*>(f); }
const FdFile* self(const sqfs_file_t* f) { return reinterpret_cast<const FdFile*>(f); }

void fd_file_destroy(sqfs_object_t* obj) { delete reinterpret_cast<FdFile*>(obj); }

int fd_file_read_at(sqfs_file_t* f, sqfs_u64 offset, void* buffer, size_t size) {
    FdFile* file = self(f);
    if (offset + size > file->size)
        return SQFS_ERROR_OUT_OF_BOUNDS;
    errno = 0;
    return pread_exact(file->fd, buffer, size, offset) ? 0 : io_failed();
}

int fd_file_write_at(sqfs_file_t* f, sqfs_u64 offset, const void* buffer, size_t size) {
    FdFile* file = self(f);
    errno = 0;
    if (!pwrite_exact(file->fd, buffer, size, offset))
        return io_failed();
    sqfs_u64 end = offset + size;
    if (end > file->size)
        file->size = end;
    return 0;
}

sqfs_u64 fd_file_get_size(const sqfs_file_t* f) { return self(f)->size; }

int fd_file_truncate(sqfs_file_t* f, sqfs_u64 size) {
    FdFile* file = self(f);
    if (::ftruncate(file->fd, static_cast<off_t>(size)) != 0)
        return io_failed();
    file->size = size;
    return 0;
}

} // namespace

SqfsPtr<sqfs_file_t> make_fd_file(int fd, const std::string& name) {
    auto* file = new FdFile{};
    file->base.base.destroy = fd_file_destroy;
    file->base.base.copy = nullptr;
    file->base.read_at = fd_file_read_at;
    file->base.write_at = fd_file_write_at;
    file->base.get_size = fd_file_get_size;
    file->base.truncate = fd_file_truncate;
    file->fd = fd;
    file->name = name;
    off_t end = ::lseek(fd, 0, SEEK_END);
    file->size = end > 0 ? static_cast<sqfs_u64>(end) : 0;
    return SqfsPtr<sqfs_file_t>(&file->base);
}

const char* error_text(int ret) {
    switch (ret) {
    case SQFS_ERROR_ALLOC: return "out of memory";
    case SQFS_ERROR_IO: return "input/output error";
    case SQFS_ERROR_COMPRESSOR: return "compressor failed";
    case SQFS_ERROR_INTERNAL: return "internal error in libsquashfs";
    case SQFS_ERROR_CORRUPTED: return "data is corrupted";
    case SQFS_ERROR_UNSUPPORTED: return "unsupported";
    case SQFS_ERROR_OVERFLOW: return "numeric overflow";
    case SQFS_ERROR_OUT_OF_BOUNDS: return "location out of bounds";
    case SFQS_ERROR_SUPER_MAGIC: return "wrong superblock magic";
    case SFQS_ERROR_SUPER_VERSION: return "wrong squashfs version";
    case SQFS_ERROR_SUPER_BLOCK_SIZE: return "invalid block size";
    case SQFS_ERROR_NOT_DIR: return "not a directory";
    case SQFS_ERROR_NO_ENTRY: return "no such entry";
    case SQFS_ERROR_LINK_LOOP: return "hard link loop";
    case SQFS_ERROR_NOT_FILE: return "not a regular file";
    case SQFS_ERROR_ARG_INVALID: return "invalid argument";
    case SQFS_ERROR_SEQUENCE: return "calls made in the wrong order";
    default: return "unknown libsquashfs error";
    }
}

void check(int ret, const std::string& what) {
    if (ret == 0)
        return;
    if (ret == SQFS_ERROR_IO) {
        const int saved = g_io_errno.exchange(0);
        throw Error(ErrorKind::Io, what + ": " + (saved != 0 ? std::strerror(saved) : error_text(ret)));
    }
    throw Error(ErrorKind::Internal, what + ": " + error_text(ret));
}

} // namespace sysext::squashfs

// RAII for libsquashfs objects, and an sqfs_file_t backed by a file descriptor
// we own (so that the output can be a temporary file renamed on success).
#pragma once

#include <sqfs/block.h>
#include <sqfs/block_processor.h>
#include <sqfs/block_writer.h>
#include <sqfs/compressor.h>
#include <sqfs/dir_writer.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/meta_writer.h>
#include <sqfs/predef.h>
#include <sqfs/super.h>
#include <sqfs/xattr_writer.h>

#include <cstdlib>
#include <memory>
#include <string>

namespace sysext::squashfs {

struct SqfsDestroy {
    void operator()(void* obj) const { sqfs_destroy(obj); }
};
template <class T> using SqfsPtr = std::unique_ptr<T, SqfsDestroy>;

// Inodes are plain malloc'd memory in libsquashfs.
struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};
using InodePtr = std::unique_ptr<sqfs_inode_generic_t, FreeDeleter>;

// An sqfs_file_t writing through pread/pwrite on fd; does not close fd.
SqfsPtr<sqfs_file_t> make_fd_file(int fd, const std::string& name);

// libsquashfs's reason for a negative SQFS_ERROR value, e.g. "data is corrupted".
const char* error_text(int ret);

// Throws an Error "<what>: <libsquashfs's reason>" when ret is non-zero.
void check(int ret, const std::string& what);

} // namespace sysext::squashfs

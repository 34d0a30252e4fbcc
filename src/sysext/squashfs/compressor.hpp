// A libsquashfs compressor wrapped by ours: every block (data, fragment and
// metadata alike) goes through do_block here, which is where we enforce rules
// the library leaves to the caller.
//
// Rule: a "compressed" result that is not smaller than its input is refused
// (do_block returns 0 and the block is stored raw). libsquashfs 1.2's lz4
// backend returns such results for tiny metadata blocks (4 bytes in, 5 out),
// which the kernel reads but unsquashfs rejects as corrupt.
#pragma once

#include "sysext/squashfs/sqfs_handles.hpp"

namespace sysext::squashfs {

// Takes ownership of inner; the wrapper's copies (one per worker thread) wrap
// copies of inner.
SqfsPtr<sqfs_compressor_t> wrap_compressor(SqfsPtr<sqfs_compressor_t> inner);

} // namespace sysext::squashfs

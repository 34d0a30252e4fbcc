// A libsquashfs compressor wrapped by ours: every block (data, fragment and
// metadata alike) goes through do_block here, which is where we enforce rules
// the library leaves to the caller.
//
// Rule: a "compressed" result that is not smaller than its input is refused
// (do_block returns 0 and the block is stored raw). libsquashfs 1.2's lz4
// backend returns such results for tiny metadata blocks (4 bytes in, 5 out),
// which the kernel reads but unsquashfs rejects as corrupt.
//
// With a block cache, do_block first looks the block up by the SHA-256 of its
// bytes and of everything else that decides the result (see cache_context), and
// compresses only on a miss, storing what it returns, "store raw" included. The
// cached answer is the wrapper's own earlier answer for the same key, so the
// image is the same with or without the cache. A hit is decompressed and
// compared with the block before it is used (~1 GB/s for zstd, far cheaper
// than compressing), so not even a whole but wrong entry reaches an image.
#pragma once

#include "sysext/squashfs/sqfs_handles.hpp"
#include "sysext/util/block_cache.hpp"

#include <string>

namespace sysext::squashfs {

// Takes ownership of inner; the wrapper's copies (one per worker thread) wrap
// copies of inner and share `cache` (null: no cache), which must outlive them.
SqfsPtr<sqfs_compressor_t> wrap_compressor(SqfsPtr<sqfs_compressor_t> inner,
                                           BlockCache* cache = nullptr);

// What decides a block's compressed bytes besides the block: a format version,
// the compressor's configuration (id, flags, block size, level, backend
// options), the libsquashfs and compression library files loaded, and the
// result of compressing a fixed probe block, which catches a library whose
// output changed under the same name.
std::string cache_context(sqfs_compressor_t* inner);

} // namespace sysext::squashfs

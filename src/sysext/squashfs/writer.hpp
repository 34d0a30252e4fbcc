// Serialises an extension tree into a squashfs 4.0 image with libsquashfs.
//
// libsquashfs provides the building blocks (block processor, metadata, directory,
// ID, fragment and xattr table writers); the order in which they are driven is
// ours and follows the layout of the SquashFS format: superblock, compressor
// options, data and fragment blocks, inode table, directory table, fragment
// table, ID table, xattr table, then padding to 4096 bytes.
//
// Reproducibility: file data is written in the tree's depth-first bytewise
// order, inodes are numbered in a fixed post-order, every time comes from the
// options, and libsquashfs's block processor gives the same bytes for any
// number of worker threads.
#pragma once

#include "sysext/squashfs/compression.hpp"
#include "sysext/tree/tree.hpp"
#include "sysext/util/block_cache.hpp"
#include "sysext/util/reporter.hpp"

#include <cstdint>

namespace sysext::squashfs {

struct WriterOptions {
    Compression compression;
    uint32_t block_size = 128 * 1024;
    unsigned jobs = 0;   // worker threads; 0 = one per available core
    uint32_t mtime = 0;  // superblock modification time
    bool xattrs = true;  // store extended attributes
    // Pack the tail ends of files longer than a block into fragment blocks too.
    bool tail_packing = false;
    // Data and fragment blocks are looked up here before being compressed, and
    // stored after (null: no cache). It cannot change the image's bytes.
    BlockCache* cache = nullptr;
};

struct WriteStats {
    uint64_t input_bytes = 0;   // file content fed in
    uint64_t image_bytes = 0;   // final size, padding included
    uint64_t inodes = 0;
    uint64_t data_blocks = 0;   // blocks produced (before deduplication)
    uint64_t blocks_written = 0;
    uint64_t fragment_blocks = 0;
    uint64_t sparse_blocks = 0;
    uint64_t fragments = 0;     // tail ends stored
    uint64_t duplicate_fragments = 0;
};

// Writes the image to fd (an empty, seekable file). The tree must have been
// finalize()d. Throws sysext::Error on failure; the caller discards the file.
WriteStats write_image(const tree::Tree& tree, int fd, const WriterOptions& options,
                       Reporter& reporter);

} // namespace sysext::squashfs

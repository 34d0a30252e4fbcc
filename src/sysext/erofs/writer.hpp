// Serialises an extension tree into an EROFS image.
//
// Layout, in 4 KiB blocks: block 0 holds the superblock (at 1024) and its
// compression settings; then file data in the tree's depth-first order of
// first names (plain blocks, or compressed extents); the shared xattr area;
// the metadata area (inodes with their inline xattrs, inline tails of files,
// directories and symlinks, and the lcluster indexes of compressed files);
// then the directory blocks that did not fit inline. File data comes first
// because only then are compressed sizes known; the metadata area is laid
// out once every size is known, so that directories can name their entries'
// nids.
//
// Reproducibility: one pass over the tree in a fixed order, the root inode
// first in the metadata area, zero UUID and one build time; compression runs
// on worker threads but its results are written in submission order, so any
// --jobs gives the same bytes.
#pragma once

#include "sysext/erofs/compress.hpp"
#include "sysext/tree/tree.hpp"
#include "sysext/util/block_cache.hpp"
#include "sysext/util/reporter.hpp"

#include <cstdint>

namespace sysext::erofs {

struct WriterOptions {
    Compression compression;
    uint32_t pcluster_size = 64 * 1024; // physical cluster: the most compressed bytes per extent
    unsigned jobs = 0;                  // compression threads; 0 = one per available core
    uint32_t mtime = 0; // the build time; inodes with another mtime get extended inodes
    bool xattrs = true;
    // ztailpacking: a compressed file's end, when it compresses into less than
    // a block, is stored after the inode instead of in a block of its own.
    bool tail_packing = false;
    // FRAGMENTS: the end of a compressed file that does not fill a pcluster,
    // and small files whole, go to one packed inode that is compressed as a
    // file of its own (mkfs.erofs -Efragments); replaces tail packing for
    // files (the packed inode itself still takes a tail with tail_packing).
    bool fragments = false;
    // Compressed segments are looked up here before being compressed, and
    // stored after (null: no cache). It cannot change the image's bytes.
    BlockCache* cache = nullptr;
};

struct WriteStats {
    uint64_t input_bytes = 0;
    uint64_t image_bytes = 0;
    uint64_t inodes = 0;
    uint64_t data_blocks = 0; // blocks of file data written (plain and compressed)
    uint64_t compressed_files = 0;
    uint64_t extents = 0; // compressed extents, plain ones included
    uint64_t plain_extents = 0;
    uint64_t sparse_blocks = 0; // all-zero blocks of uncompressed files, mapped to one zero block
    uint64_t inline_tails = 0;  // files, directories and symlinks with inline data
    uint64_t fragments = 0;     // files with their end or all of them in the packed inode
    uint64_t packed_bytes = 0;  // the packed inode's size
};

// Writes the image to fd (an empty, seekable file). The tree must have been
// finalize()d. Throws sysext::Error on failure; the caller discards the file.
WriteStats write_image(const tree::Tree& tree, int fd, const WriterOptions& options,
                       Reporter& reporter);

} // namespace sysext::erofs

// dm-verity hash trees: building one over an image and checking one against it.
//
// The format is the one `veritysetup format` writes by default and the kernel's
// dm-verity target reads (Documentation/admin-guide/device-mapper/verity.rst,
// cryptsetup's DMVerity wiki): format version 1, SHA-256, 4096-byte data and hash
// blocks. Each hash is SHA-256(salt || block); a hash block holds 128 of them,
// zero-padded. Level 0 hashes the data blocks, each higher level hashes the level
// below, until one block remains; the root hash is the salted hash of that block.
// On disk the superblock comes first, padded to one hash block, then the levels
// from the top (smallest) down to level 0.
//
// Data and tree live anywhere in a file (a sidecar, or partitions of a disk
// image), so both are addressed as (fd, offset). Nothing is held in memory
// beyond a few blocks: images are streamed.
#pragma once

#include "sysext/util/reporter.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/verity/superblock.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sysext::verity {

inline constexpr uint32_t k_block_size = 4096;
inline constexpr size_t k_default_salt_size = 32;

// Where each level of the tree lies, for a given number of data blocks.
struct TreeLayout {
    uint64_t data_blocks = 0;
    // Per level (0 = hashes of the data blocks): first block, counted in hash blocks
    // from the start of the hash area (the superblock is block 0), and block count.
    std::vector<uint64_t> level_start;
    std::vector<uint64_t> level_blocks;
    uint64_t total_blocks = 0; // superblock block + all levels

    uint64_t hash_area_size() const { return total_blocks * k_block_size; }
};

// Plans the tree for data of `data_size` bytes, which must be a non-zero multiple
// of 4096 (dm-verity covers whole blocks only). `what` names the data in errors.
TreeLayout plan_tree(uint64_t data_size, const std::string& what);

// A region of an open file.
struct Region {
    int fd = -1;
    uint64_t offset = 0;
    uint64_t size = 0;
    std::string what; // for messages: a path, or "DISK: usr partition"
};

// SHA-256 of a region's content: the default salt, so that the same image always
// gets the same salt and tree, yet different images never share one.
std::string content_salt(const Region& data);

// The superblock UUID we use: the last 128 bits of the root hash, the same value
// the Discoverable Partitions Specification asks for as the verity partition UUID.
std::array<uint8_t, 16> uuid_for_root_hash(const Digest& root_hash);

// Writes superblock and tree for `data` at `out_offset` of `out_fd` (which must be
// open for reading too: upper levels are computed from the written lower ones).
// Returns the root hash.
Digest build_tree(const Region& data, const std::string& salt, int out_fd, uint64_t out_offset,
                  Reporter& reporter);

struct TreeInfo {
    Superblock superblock;
    TreeLayout layout;
};

// Checks that `hash` holds a well-formed superblock and tree for `data` whose root
// is `root_hash`: every hash block against its parent, the top block against the
// root hash, every data block against level 0, and all padding zero. Throws a
// Verify error naming the first mismatch (which file, which block, which offset).
TreeInfo verify_tree(const Region& data, const Region& hash, const Digest& root_hash);

} // namespace sysext::verity

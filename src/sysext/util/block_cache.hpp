// A content-addressed cache of compressed blocks, shared by concurrent builds.
//
// Compression dominates packing time (zstd level 22 spends ~90 s on a 368 MB
// tree), yet a rebuild usually changes only a few blocks. Callers key each
// result by the SHA-256 of everything that decides its bytes (the input block,
// the compressor, its level and options, the block size, a format version) and
// keep what the compressor produced under that key.
//
// Layout: DIR/xx/KEY, where KEY is the key in hex and xx its first two digits.
// An entry is a fixed header followed by the value:
//
//   offset size
//   0      8    magic "SXBCACHE"
//   8      4    format version (1), little-endian
//   12     32   the key
//   44     8    value length, little-endian
//   52     32   SHA-256 of the value
//   84     ...  the value
//
// Safety: an entry is written to a temporary file beside it and renamed into
// place, so a reader sees a whole entry or none; two builds storing the same key
// both succeed and leave one whole entry. A read checks the header, the key, the
// length and the value's hash; an entry that fails any check is a miss (and is
// removed), never a value. A hit sets the entry's modification time, which
// orders pruning: least recently used first. Pruning only unlinks, so a build
// reading an entry at that moment still reads it whole or misses it.
#pragma once

#include "sysext/util/sha256.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace sysext {

// $XDG_CACHE_HOME/sysext-build/blocks, else $HOME/.cache/sysext-build/blocks.
std::string default_block_cache();

inline constexpr uint64_t k_default_block_cache_bound = uint64_t{4} << 30;

struct BlockCacheCounters {
    uint64_t hits = 0;
    uint64_t misses = 0;  // no entry, or a damaged one
    uint64_t damaged = 0; // entries that failed a check (counted in misses too)
    uint64_t stored = 0;
    uint64_t store_failures = 0;
};

class BlockCache {
public:
    // The directory is created on first store.
    explicit BlockCache(std::string dir);
    BlockCache(const BlockCache&) = delete;
    BlockCache& operator=(const BlockCache&) = delete;

    const std::string& dir() const { return m_dir; }
    std::string entry_path(const Digest& key) const;

    // The value stored under key, or nullopt. Safe to call from many threads.
    std::optional<std::string> get(const Digest& key);
    // Keeps value under key. A cache that cannot be written never fails a build:
    // the failure is counted and the first cause kept (first_store_error()).
    void put(const Digest& key, std::string_view value);
    // The caller found the value get() gave for key wrong for its input: the
    // hit counts as a damaged miss and the entry is removed.
    void reject(const Digest& key);

    BlockCacheCounters counters() const;
    std::string first_store_error() const;

private:
    std::string m_dir;
    std::atomic<uint64_t> m_hits{0}, m_misses{0}, m_damaged{0}, m_stored{0}, m_store_failures{0};
    mutable std::mutex m_error_mutex;
    std::string m_first_error;
};

// A key: SHA-256 over a context (what decides the bytes besides the input,
// e.g. "squashfs zstd level=22 block=524288") and the input.
Digest block_cache_key(std::string_view context, const void* data, size_t size);

struct BlockCacheUsage {
    uint64_t entries = 0;
    uint64_t bytes = 0;     // sum of entry file sizes
    int64_t oldest_use = 0; // seconds since 1970 of the least recently used entry; 0 if none
    int64_t newest_use = 0;
};

// What the cache directory holds; an absent directory is an empty cache.
BlockCacheUsage block_cache_usage(const std::string& dir);

struct PruneResult {
    BlockCacheUsage before;
    BlockCacheUsage after;
    uint64_t removed = 0;
};

// Removes least recently used entries until the entries take at most max_bytes,
// and temporary files that crashed writers left behind (older than an hour).
PruneResult prune_block_cache(const std::string& dir, uint64_t max_bytes);

} // namespace sysext

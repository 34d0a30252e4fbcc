// Compresses an image's 1 MiB chunks on several threads, handing them back in order.
//
// The calling thread reads chunk after chunk and queues it; workers bzip2 it and
// hash what will be stored; the calling thread takes finished chunks strictly in
// image order. At most a fixed window of chunks is in flight, so memory stays
// bounded whatever the image size, and since each chunk is compressed on its own
// the bytes never depend on the number of threads.
//
// Cache values: "R" (bzip2 does not make the chunk smaller: store it raw) or
// "B" followed by the bzip2 stream; the key is the SHA-256 of bzip2's settings
// and the chunk's SHA-256, so a cached answer is the one compressing would give.
#pragma once

#include "sysext/util/block_cache.hpp"
#include "sysext/util/reporter.hpp"
#include "sysext/util/sha256.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace sysext::payload {

struct Chunk {
    uint64_t offset = 0;    // in the image
    std::string input;      // the image bytes
    std::string stored;     // what goes into the payload: bzip2 data, or the input again
    bool compressed = false;
    sysext::Digest stored_hash{}; // SHA-256 of `stored`
};

// Hands each chunk to `sink` on the calling thread, in image order.
using ChunkSink = std::function<void(const Chunk& chunk)>;

// Reads [0, size) of `fd` in chunks of `chunk_size` and compresses them on `jobs`
// threads (0: one per core). Errors from reading, compressing or the sink stop
// the work and propagate. With a cache (may be null), a chunk's stored form is
// looked up by the hash of its bytes before compressing, and kept after.
void compress_chunks(int fd, const std::string& what, uint64_t size, uint64_t chunk_size,
                     unsigned jobs, const ChunkSink& sink, Reporter& reporter,
                     BlockCache* cache = nullptr);

// Each thread holds two chunks in flight, so this also bounds the memory used.
inline constexpr unsigned k_max_jobs = 256;

// The number of threads `jobs` means: itself, or the number of cores for 0.
unsigned effective_jobs(unsigned jobs);

} // namespace sysext::payload

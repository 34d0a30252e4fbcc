#include "payload/bzip2.hpp"
#include "payload/chunk_compressor.hpp"
#include "payload/test_support.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

namespace sysext::payload {

using sysext::testing::TempDir;

namespace {

struct Seen {
    uint64_t offset;
    bool compressed;
    std::string stored;
};

std::vector<Seen> run(const std::string& path, uint64_t size, uint64_t chunk, unsigned jobs,
                      BlockCache* cache = nullptr) {
    Fd fd = open_or_throw(path, O_RDONLY);
    std::vector<Seen> seen;
    compress_chunks(
        fd.get(), path, size, chunk, jobs,
        [&](const Chunk& c) {
            EXPECT_EQ(c.stored_hash, sysext::sha256(c.stored));
            seen.push_back({c.offset, c.compressed, c.stored});
        },
        null_reporter(), cache);
    return seen;
}

} // namespace

TEST(ChunkCompressor, ChunksComeBackInOrderWhateverTheThreads) {
    TempDir dir;
    const uint64_t size = 40 * 16384 + 4096;
    sysext::testing::write_all_to(dir.path("img"), sysext::testing::make_image_bytes(size, 5));
    auto one = run(dir.path("img"), size, 16384, 1);
    ASSERT_EQ(one.size(), 41u);
    for (size_t i = 0; i < one.size(); ++i)
        EXPECT_EQ(one[i].offset, i * 16384);
    for (unsigned jobs : {2u, 3u, 8u}) {
        auto many = run(dir.path("img"), size, 16384, jobs);
        ASSERT_EQ(many.size(), one.size());
        for (size_t i = 0; i < one.size(); ++i) {
            EXPECT_EQ(many[i].offset, one[i].offset);
            EXPECT_EQ(many[i].stored, one[i].stored) << "chunk " << i << " with " << jobs;
        }
    }
    // make_image_bytes alternates 64 KiB of noise and of text: both kinds appear.
    bool raw = false, packed = false;
    for (const auto& s : one)
        (s.compressed ? packed : raw) = true;
    EXPECT_TRUE(raw && packed);
}

TEST(ChunkCompressor, AnErrorInTheSinkStopsTheWorkCleanly) {
    TempDir dir;
    const uint64_t size = 64 * 4096;
    sysext::testing::write_all_to(dir.path("img"), sysext::testing::make_image_bytes(size, 1));
    Fd fd = open_or_throw(dir.path("img"), O_RDONLY);
    int calls = 0;
    EXPECT_THROW(compress_chunks(fd.get(), "img", size, 4096, 4,
                                 [&](const Chunk&) {
                                     if (++calls == 3)
                                         throw_input("sink failed");
                                 },
                                 null_reporter()),
                 Error);
    EXPECT_EQ(calls, 3);
}

TEST(ChunkCompressor, AFileShorterThanAnnouncedFails) {
    TempDir dir;
    sysext::testing::write_all_to(dir.path("img"), std::string(8192, 'x'));
    Fd fd = open_or_throw(dir.path("img"), O_RDONLY);
    try {
        compress_chunks(fd.get(), "img", 16384, 4096, 2, [](const Chunk&) {}, null_reporter());
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "img: the file shrank while it was being read");
    }
}

TEST(ChunkCompressor, CacheGivesTheSameChunksColdWarmAndDamaged) {
    TempDir dir;
    const uint64_t size = 12 * 65536;
    sysext::testing::write_all_to(dir.path("img"), sysext::testing::make_image_bytes(size, 9));
    auto plain = run(dir.path("img"), size, 65536, 2);
    auto same = [&](const std::vector<Seen>& got) {
        ASSERT_EQ(got.size(), plain.size());
        for (size_t i = 0; i < plain.size(); ++i) {
            EXPECT_EQ(got[i].compressed, plain[i].compressed) << "chunk " << i;
            EXPECT_EQ(got[i].stored, plain[i].stored) << "chunk " << i;
        }
    };
    BlockCache cold(dir.path("cache"));
    same(run(dir.path("img"), size, 65536, 2, &cold));
    // Chunks 1 and 11 hold the same text: the second may find the first's entry.
    EXPECT_EQ(cold.counters().stored + cold.counters().hits, plain.size());
    EXPECT_GE(cold.counters().stored, plain.size() - 1);
    BlockCache warm(dir.path("cache"));
    same(run(dir.path("img"), size, 65536, 3, &warm));
    EXPECT_EQ(warm.counters().hits, plain.size());

    // A well-formed entry whose value is no answer for its chunk ("B" with a
    // stream as long as the chunk) is compressed again.
    const std::string input = sysext::testing::make_image_bytes(size, 9).substr(0, 65536);
    const Digest input_hash = sysext::sha256(input);
    const Digest key = block_cache_key(bzip2_cache_context(), input_hash.data(), input_hash.size());
    BlockCache odd(dir.path("cache"));
    odd.put(key, "B" + input);
    same(run(dir.path("img"), size, 65536, 2, &odd));
    EXPECT_EQ(odd.counters().hits, plain.size() - 1);
    EXPECT_EQ(odd.counters().damaged, 1u);
    EXPECT_EQ(odd.counters().stored, 2u); // the odd entry, then the chunk's real answer

    // A well-formed bzip2 stream, shorter than the chunk, of other bytes (the
    // compressed form of another chunk): decompressed and compared, it is not
    // used, and the payload's chunk is the real one.
    std::string other;
    ASSERT_TRUE(bzip2_compress_if_smaller(std::string(65536, 'z'), other));
    BlockCache wrong(dir.path("cache"));
    wrong.put(key, "B" + other);
    same(run(dir.path("img"), size, 65536, 2, &wrong));
    EXPECT_EQ(wrong.counters().damaged, 1u);
}

} // namespace sysext::payload

// The block cache must never change an image: cold, warm, damaged or absent,
// the bytes are the same.
#include "squashfs/test_image.hpp"
#include "sysext/squashfs/compressor.hpp"
#include "sysext/squashfs/writer.hpp"
#include "sysext/util/block_cache.hpp"
#include "sysext/util/sha256.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace sysext::squashfs {

namespace {

using test::inline_file;
using test::pack_sha256;

// Compressible blocks, incompressible ones (stored raw), small files in
// fragment blocks, and a tail.
tree::Tree cache_tree() {
    tree::Tree t;
    t.set_default_mtime(1700000000);
    std::string text, noise;
    for (int i = 0; i < 30000; ++i)
        text += "entry " + std::to_string(i * 7) + "\n";
    uint32_t state = 1;
    for (int i = 0; i < 300000; ++i) {
        state = state * 1664525u + 1013904223u;
        noise += static_cast<char>(state >> 24);
    }
    t.add("usr/share/text", inline_file(text));
    t.add("usr/share/noise", inline_file(noise));
    for (int i = 0; i < 20; ++i)
        t.add("usr/lib/small" + std::to_string(i), inline_file("small file " + std::to_string(i)));
    t.walk([](tree::Node& n) { n.mtime = 1700000000; });
    t.finalize();
    return t;
}

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (e.is_regular_file())
            out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

class WriterCache : public ::testing::TestWithParam<const char*> {};

TEST_P(WriterCache, SameBytesWithoutColdWarmAndDamagedCache) {
    test::TempDir dir;
    auto t = cache_tree();
    WriterOptions o;
    o.compression = Compression::parse(GetParam());
    o.block_size = 64 * 1024;
    o.jobs = 2;
    const std::string plain = pack_sha256(t, dir / "plain.raw", o);

    BlockCache cold(dir / "cache");
    o.cache = &cold;
    EXPECT_EQ(pack_sha256(t, dir / "cold.raw", o), plain);
    EXPECT_EQ(cold.counters().hits, 0u);
    EXPECT_GT(cold.counters().stored, 5u);

    BlockCache warm(dir / "cache");
    o.cache = &warm;
    EXPECT_EQ(pack_sha256(t, dir / "warm.raw", o), plain);
    EXPECT_EQ(warm.counters().misses, 0u);
    EXPECT_EQ(warm.counters().hits, cold.counters().stored);

    // Every entry damaged a different way: flipped, truncated, swapped.
    auto files = entries(dir / "cache");
    ASSERT_GE(files.size(), 3u);
    for (size_t i = 0; i < files.size(); ++i) {
        std::string bytes;
        {
            std::ifstream in(files[i], std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), {});
        }
        if (i % 3 == 0)
            bytes.back() ^= 0x01; // the value, or for an empty one its hash
        else if (i % 3 == 1)
            bytes.resize(bytes.size() / 2);
        else
            std::filesystem::copy_file(files[(i + 1) % files.size()], files[i] + ".other");
        if (i % 3 == 2) {
            std::filesystem::rename(files[i] + ".other", files[i]);
            continue;
        }
        std::ofstream(files[i], std::ios::binary | std::ios::trunc) << bytes;
    }
    BlockCache damaged(dir / "cache");
    o.cache = &damaged;
    EXPECT_EQ(pack_sha256(t, dir / "damaged.raw", o), plain);
    EXPECT_EQ(damaged.counters().hits, 0u);
    EXPECT_GT(damaged.counters().damaged, 0u);
}

TEST_P(WriterCache, WholeButWrongEntriesAreNotUsed) {
    test::TempDir dir;
    auto t = cache_tree();
    WriterOptions o;
    o.compression = Compression::parse(GetParam());
    o.block_size = 64 * 1024;
    const std::string plain = pack_sha256(t, dir / "plain.raw", o);
    BlockCache cold(dir / "cache");
    o.cache = &cold;
    pack_sha256(t, dir / "cold.raw", o);

    // Each key gets the next entry's value, under a header that is right for
    // it: only decompressing the value shows that it is wrong.
    auto files = entries(dir / "cache");
    std::vector<std::string> values;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        values.emplace_back(std::string(std::istreambuf_iterator<char>(in), {}).substr(84));
    }
    BlockCache forger(dir / "cache");
    size_t forged = 0;
    for (size_t i = 0; i < files.size(); ++i) {
        const std::string& other = values[(i + 1) % files.size()];
        if (other.empty() || other == values[i])
            continue;
        Digest key;
        std::string raw = from_hex(std::filesystem::path(files[i]).filename().string());
        std::copy(raw.begin(), raw.end(), key.begin());
        forger.put(key, other);
        forged++;
    }
    ASSERT_GT(forged, 2u);
    BlockCache forged_cache(dir / "cache");
    o.cache = &forged_cache;
    EXPECT_EQ(pack_sha256(t, dir / "forged.raw", o), plain);
    EXPECT_GE(forged_cache.counters().damaged, forged);
}

INSTANTIATE_TEST_SUITE_P(Compressors, WriterCache,
                         ::testing::Values("zstd:3", "xz", "gzip:9", "lz4:hc", "lz4"));

TEST(WriterCacheKey, AnotherLevelDoesNotReuseEntries) {
    test::TempDir dir;
    auto t = cache_tree();
    BlockCache cache(dir / "cache");
    WriterOptions o;
    o.compression = Compression::parse("zstd:1");
    o.cache = &cache;
    pack_sha256(t, dir / "one.raw", o);

    WriterOptions nine;
    nine.compression = Compression::parse("zstd:9");
    const std::string plain = pack_sha256(t, dir / "plain9.raw", nine);
    BlockCache again(dir / "cache");
    nine.cache = &again;
    EXPECT_EQ(pack_sha256(t, dir / "cached9.raw", nine), plain);
    EXPECT_EQ(again.counters().hits, 0u);

    WriterOptions bigger = nine;
    bigger.block_size = 256 * 1024;
    BlockCache third(dir / "cache");
    bigger.cache = &third;
    pack_sha256(t, dir / "big.raw", bigger);
    EXPECT_EQ(third.counters().hits, 0u);
}

TEST(WriterCacheKey, ContextNamesSettingsLibrariesAndProbe) {
    for (auto [id, lib] : {std::pair{SQFS_COMP_ZSTD, "libzstd.so."},
                           {SQFS_COMP_XZ, "liblzma.so."},
                           {SQFS_COMP_GZIP, "libz.so."},
                           {SQFS_COMP_LZ4, "liblz4.so."}}) {
        sqfs_compressor_config_t cfg;
        ASSERT_EQ(sqfs_compressor_config_init(&cfg, static_cast<SQFS_COMPRESSOR>(id), 131072, 0),
                  0);
        sqfs_compressor_t* made = nullptr;
        ASSERT_EQ(sqfs_compressor_create(&cfg, &made), 0);
        SqfsPtr<sqfs_compressor_t> cmp(made);
        const std::string ctx = cache_context(cmp.get());
        EXPECT_NE(ctx.find("block=131072"), std::string::npos) << ctx;
        EXPECT_NE(ctx.find("libsquashfs.so.1."), std::string::npos) << ctx;
        EXPECT_NE(ctx.find(lib), std::string::npos) << ctx;
        EXPECT_NE(ctx.find(";probe="), std::string::npos) << ctx;
        EXPECT_EQ(ctx.find(";probe=-"), std::string::npos) << ctx;
    }
}

} // namespace sysext::squashfs

#include "sysext/util/block_cache.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <vector>

namespace sysext {
namespace {

using test::TempDir;
using test::write_text;

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Sets an entry's last use to `seconds` since 1970.
void set_used(const std::string& path, int64_t seconds) {
    struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

Digest key_of(const std::string& s) {
    return block_cache_key("test", s.data(), s.size());
}

TEST(BlockCache, MissThenHit) {
    TempDir dir;
    BlockCache cache(dir / "c");
    const Digest key = key_of("block one");
    EXPECT_FALSE(cache.get(key));
    cache.put(key, "compressed one");
    auto value = cache.get(key);
    ASSERT_TRUE(value);
    EXPECT_EQ(*value, "compressed one");
    const auto c = cache.counters();
    EXPECT_EQ(c.hits, 1u);
    EXPECT_EQ(c.misses, 1u);
    EXPECT_EQ(c.stored, 1u);
    EXPECT_EQ(c.damaged, 0u);
    // Fanned out by the key's first two hex digits.
    const std::string hex = to_hex(key);
    EXPECT_EQ(cache.entry_path(key), dir / ("c/" + hex.substr(0, 2) + "/" + hex));
    EXPECT_TRUE(std::filesystem::is_regular_file(cache.entry_path(key)));
}

TEST(BlockCache, EmptyValueIsAHit) {
    TempDir dir;
    BlockCache cache(dir.path());
    cache.put(key_of("raw"), "");
    auto value = cache.get(key_of("raw"));
    ASSERT_TRUE(value);
    EXPECT_TRUE(value->empty());
}

TEST(BlockCache, KeyCoversContextAndData) {
    const std::string data = "same bytes";
    EXPECT_NE(block_cache_key("zstd level=22", data.data(), data.size()),
              block_cache_key("zstd level=21", data.data(), data.size()));
    // The context's length is hashed, so moving bytes between context and data changes the key.
    EXPECT_NE(block_cache_key("ab", "c", 1), block_cache_key("a", "bc", 2));
    EXPECT_EQ(block_cache_key("x", "y", 1), block_cache_key("x", "y", 1));
}

TEST(BlockCache, FlippedByteIsAMissAndRemoved) {
    TempDir dir;
    BlockCache cache(dir.path());
    const Digest key = key_of("b");
    cache.put(key, std::string(1000, 'z'));
    std::string bytes = read_all(cache.entry_path(key));
    bytes[bytes.size() - 10] ^= 1;
    write_all_bytes(cache.entry_path(key), bytes);
    EXPECT_FALSE(cache.get(key));
    EXPECT_EQ(cache.counters().damaged, 1u);
    EXPECT_FALSE(std::filesystem::exists(cache.entry_path(key)));
    // Stored again, it is used again.
    cache.put(key, std::string(1000, 'z'));
    EXPECT_EQ(*cache.get(key), std::string(1000, 'z'));
}

TEST(BlockCache, TruncatedEntriesAreMisses) {
    TempDir dir;
    BlockCache cache(dir.path());
    const Digest key = key_of("t");
    const std::string value(5000, 'v');
    for (size_t keep : {size_t{0}, size_t{10}, size_t{84}, size_t{84 + 4999}}) {
        cache.put(key, value);
        std::filesystem::resize_file(cache.entry_path(key), keep);
        EXPECT_FALSE(cache.get(key)) << "truncated to " << keep;
    }
    EXPECT_EQ(cache.counters().damaged, 4u);
}

TEST(BlockCache, AnotherKeysEntryIsAMiss) {
    TempDir dir;
    BlockCache cache(dir.path());
    const Digest a = key_of("a"), b = key_of("b");
    cache.put(a, "value of a");
    cache.put(b, "value of b");
    // A whole, self-consistent entry under the wrong name.
    std::filesystem::copy_file(cache.entry_path(a), cache.entry_path(b),
                               std::filesystem::copy_options::overwrite_existing);
    EXPECT_FALSE(cache.get(b));
    EXPECT_EQ(*cache.get(a), "value of a");
}

TEST(BlockCache, BadMagicOrVersionIsAMiss) {
    TempDir dir;
    BlockCache cache(dir.path());
    const Digest key = key_of("m");
    for (size_t at : {size_t{0}, size_t{8}, size_t{44}}) {
        cache.put(key, "payload");
        std::string bytes = read_all(cache.entry_path(key));
        bytes[at] ^= 0x40;
        write_all_bytes(cache.entry_path(key), bytes);
        EXPECT_FALSE(cache.get(key)) << "byte " << at;
    }
}

TEST(BlockCache, UnwritableCacheCountsFailuresOnly) {
    TempDir dir;
    write_text(dir / "file", "not a directory");
    BlockCache cache(dir / "file/cache");
    cache.put(key_of("x"), "y");
    EXPECT_EQ(cache.counters().store_failures, 1u);
    EXPECT_NE(cache.first_store_error().find(dir / "file/cache"), std::string::npos)
        << cache.first_store_error();
    EXPECT_FALSE(cache.get(key_of("x")));
}

TEST(BlockCache, ConcurrentWritersOfOneKey) {
    TempDir dir;
    BlockCache cache(dir.path());
    const Digest key = key_of("shared");
    const std::string value(200000, 's');
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] {
            for (int j = 0; j < 20; ++j) {
                cache.put(key, value);
                if (auto got = cache.get(key)) {
                    EXPECT_EQ(*got, value);
                }
            }
        });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(cache.counters().damaged, 0u);
    EXPECT_EQ(*cache.get(key), value);
    // No temporary file left behind.
    size_t files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path()))
        files += e.is_regular_file() ? 1 : 0;
    EXPECT_EQ(files, 1u);
}

TEST(BlockCache, PruneRemovesLeastRecentlyUsedFirst) {
    TempDir dir;
    BlockCache cache(dir.path());
    const std::string value(1000, 'p');
    std::vector<Digest> keys;
    for (int i = 0; i < 5; ++i) {
        keys.push_back(key_of("entry " + std::to_string(i)));
        cache.put(keys.back(), value);
        set_used(cache.entry_path(keys.back()), 1000000 + i * 10);
    }
    // A hit makes the oldest one the most recently used.
    ASSERT_TRUE(cache.get(keys[0]));
    const uint64_t entry_size = std::filesystem::file_size(cache.entry_path(keys[1]));

    BlockCacheUsage u = block_cache_usage(dir.path());
    EXPECT_EQ(u.entries, 5u);
    EXPECT_EQ(u.bytes, 5 * entry_size);
    EXPECT_EQ(u.oldest_use, 1000010);

    PruneResult r = prune_block_cache(dir.path(), 3 * entry_size);
    EXPECT_EQ(r.removed, 2u);
    EXPECT_EQ(r.before.entries, 5u);
    EXPECT_EQ(r.after.entries, 3u);
    EXPECT_EQ(r.after.bytes, 3 * entry_size);
    EXPECT_TRUE(cache.get(keys[0]));
    EXPECT_FALSE(std::filesystem::exists(cache.entry_path(keys[1])));
    EXPECT_FALSE(std::filesystem::exists(cache.entry_path(keys[2])));
    EXPECT_TRUE(cache.get(keys[3]));
    EXPECT_TRUE(cache.get(keys[4]));

    EXPECT_EQ(prune_block_cache(dir.path(), 0).after.entries, 0u);
}

TEST(BlockCache, PruneLeavesForeignFilesAndRemovesStaleTemporaries) {
    TempDir dir;
    BlockCache cache(dir.path());
    cache.put(key_of("k"), "v");
    const std::string sub = cache.entry_path(key_of("k")).substr(0, dir.path().size() + 3);
    write_text(dir / "README", "mine");
    write_text(sub + "/.x.tmp-abcdef", "stale");
    set_used(sub + "/.x.tmp-abcdef", 1000);
    write_text(sub + "/.y.tmp-abcdef", "in progress");
    prune_block_cache(dir.path(), 1 << 20);
    EXPECT_TRUE(std::filesystem::exists(dir / "README"));
    EXPECT_FALSE(std::filesystem::exists(sub + "/.x.tmp-abcdef"));
    EXPECT_TRUE(std::filesystem::exists(sub + "/.y.tmp-abcdef"));
    EXPECT_EQ(block_cache_usage(dir.path()).entries, 1u);
}

TEST(BlockCache, AbsentDirectoryIsEmpty) {
    TempDir dir;
    EXPECT_EQ(block_cache_usage(dir / "none").entries, 0u);
    EXPECT_EQ(prune_block_cache(dir / "none", 0).removed, 0u);
}

TEST(BlockCache, DefaultLocationFollowsXdg) {
    const char* old = std::getenv("XDG_CACHE_HOME");
    std::string saved = old ? old : "";
    ::setenv("XDG_CACHE_HOME", "/x/cache", 1);
    EXPECT_EQ(default_block_cache(), "/x/cache/sysext-build/blocks");
    if (old)
        ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
    else
        ::unsetenv("XDG_CACHE_HOME");
}

} // namespace
} // namespace sysext

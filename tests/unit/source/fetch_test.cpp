#include "sysext/source/fetch.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"

#include "source/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace sysext::source {

namespace {

struct RecordingReporter : Reporter {
    std::vector<std::string> warnings;
    void warn(std::string_view m) override { warnings.emplace_back(m); }
};

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

size_t count_files(const std::string& dir) {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir))
        ++n;
    return n;
}

} // namespace

TEST(Fetch, DownloadsOnceThenUsesTheCache) {
    test::TempDir dir;
    std::string src = dir.write("src/file.bin", "hello, mirror\n");
    std::string url = "file://" + src;
    std::string hash = to_hex(sha256("hello, mirror\n"));
    Fetcher fetcher({dir / "cache", 1 << 20, nullptr});

    auto first = fetcher.fetch(url, hash, 14);
    EXPECT_FALSE(first.from_cache);
    EXPECT_EQ(first.path, dir / "cache/" + hash);
    EXPECT_EQ(read_file(first.path), "hello, mirror\n");

    std::filesystem::remove(src); // the second use must not need the source
    auto second = fetcher.fetch(url, hash);
    EXPECT_TRUE(second.from_cache);
    EXPECT_EQ(second.size, 14u);
}

TEST(Fetch, RefusesAMismatchAndKeepsNothing) {
    test::TempDir dir;
    std::string src = dir.write("src/file.bin", "tampered\n");
    std::string good = to_hex(sha256("original\n"));
    std::string bad = to_hex(sha256("tampered\n"));
    Fetcher fetcher({dir / "cache", 1 << 20, nullptr});
    std::string url = "file://" + src;
    try {
        fetcher.fetch(url, good);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Verify);
        EXPECT_EQ(std::string(e.what()),
                  url + ": SHA-256 mismatch: expected " + good + ", got " + bad + " (9 bytes)");
    }
    EXPECT_EQ(count_files(dir / "cache"), 0u); // no entry, no temporary left behind

    // A size the index promised is part of the pin.
    EXPECT_EQ(error_of([&] { fetcher.fetch(url, good, 4); }),
              url + ": SHA-256 mismatch: expected " + good + " (4 bytes), got " + bad +
                  " (9 bytes)");
    EXPECT_EQ(error_of([&] { fetcher.fetch(url, bad, 4); }), url + ": SHA-256 mismatch: expected " +
                                                                 bad + " (4 bytes), got " + bad +
                                                                 " (9 bytes)");
    EXPECT_EQ(count_files(dir / "cache"), 0u);
}

TEST(Fetch, DetectsADamagedCacheEntryAndFetchesAgain) {
    test::TempDir dir;
    std::string src = dir.write("src/file.bin", "payload\n");
    std::string hash = to_hex(sha256("payload\n"));
    RecordingReporter reporter;
    Fetcher fetcher({dir / "cache", 1 << 20, &reporter});
    std::string url = "file://" + src;
    fetcher.fetch(url, hash);

    dir.write("cache/" + hash, "paylaod\n");
    auto again = fetcher.fetch(url, hash);
    EXPECT_FALSE(again.from_cache);
    EXPECT_EQ(read_file(again.path), "payload\n");
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_EQ(reporter.warnings[0], dir / "cache/" + hash + ": damaged cache entry (SHA-256 " +
                                        to_hex(sha256("paylaod\n")) + "), fetching " + url +
                                        " again");

    // Damaged and the source gone: an error, never the damaged bytes.
    dir.write("cache/" + hash, "paylaod\n");
    std::filesystem::remove(src);
    EXPECT_NE(error_of([&] { fetcher.fetch(url, hash); }).find(url + ": download failed: "),
              std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir / "cache/" + hash));
}

TEST(Fetch, EnforcesTheSizeLimit) {
    test::TempDir dir;
    std::string src = dir.write("src/big.bin", std::string(5000, 'x'));
    Fetcher fetcher({dir / "cache", 4096, nullptr});
    std::string url = "file://" + src;
    EXPECT_EQ(error_of([&] { fetcher.fetch(url, to_hex(sha256(std::string(5000, 'x')))); }),
              url + ": larger than the limit of 4096 bytes");
    EXPECT_EQ(error_of([&] { fetcher.fetch_unpinned(url, 100); }),
              url + ": larger than the limit of 100 bytes");
    EXPECT_EQ(fetcher.fetch_unpinned(url, 5000).size(), 5000u);
}

TEST(Fetch, NamesTheUrlAndCause) {
    test::TempDir dir;
    Fetcher fetcher({dir / "cache", 1 << 20, nullptr});
    std::string hash = to_hex(sha256("x"));
    EXPECT_EQ(error_of([&] { fetcher.fetch("file://" + (dir / "missing"), hash); })
                  .rfind("file://" + (dir / "missing") +
                             ": download failed: Couldn't read a file:// file",
                         0),
              0u);
    EXPECT_EQ(error_of([&] {
                  fetcher.fetch("ftp://127.0.0.1/x", hash);
              }).rfind("ftp://127.0.0.1/x: download failed: ", 0),
              0u);
    EXPECT_EQ(error_of([&] { fetcher.fetch("file:///x", "abc"); }),
              "file:///x: bad SHA-256 \"abc\" (64 hex digits expected)");
    // Uppercase pins are accepted as the same hash.
    std::string src = dir.write("x", "x");
    std::string upper = hash;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(fetcher.fetch("file://" + src, upper).path, dir / "cache/" + hash);
}

TEST(Fetch, DefaultCacheFollowsXdg) {
    // Other tests in this binary may read HOME and XDG_CACHE_HOME: put them back.
    const char* old_home = std::getenv("HOME");
    const char* old_xdg = std::getenv("XDG_CACHE_HOME");
    std::string saved_home = old_home ? old_home : "";
    std::string saved_xdg = old_xdg ? old_xdg : "";
    ::setenv("XDG_CACHE_HOME", "/tmp/xdg-cache-test", 1);
    EXPECT_EQ(default_download_cache(), "/tmp/xdg-cache-test/sysext-build/downloads");
    ::unsetenv("XDG_CACHE_HOME");
    ::setenv("HOME", "/home/someone", 1);
    EXPECT_EQ(default_download_cache(), "/home/someone/.cache/sysext-build/downloads");
    if (old_home)
        ::setenv("HOME", saved_home.c_str(), 1);
    if (old_xdg)
        ::setenv("XDG_CACHE_HOME", saved_xdg.c_str(), 1);
}

} // namespace sysext::source

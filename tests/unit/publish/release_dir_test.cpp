#include "sysext/publish/release_dir.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"

#include "../test_util.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>

namespace sysext::publish {

namespace fs = std::filesystem;

namespace {
std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

void publish_two(const std::string& parent, const std::string& b_content) {
    ReleaseDir d(parent, "x-1-arm64");
    d.add("a.txt", "alpha\n");
    d.add("b.txt", b_content);
    d.commit();
}
} // namespace

TEST(ReleaseDir, AppearsOnlyOnCommit) {
    test::TempDir t;
    {
        ReleaseDir d(t / "rel", "x-1-arm64");
        d.add("a.txt", "alpha\n");
        EXPECT_FALSE(fs::exists(t / "rel/x-1-arm64"));
        ASSERT_EQ(entries(t / "rel").size(), 1u); // the staging directory
        EXPECT_EQ(d.files().at(0).sha256, to_hex(sha256(std::string_view("alpha\n"))));
        EXPECT_EQ(d.files().at(0).size, 6u);
        EXPECT_EQ(d.commit(), CommitOutcome::Published);
    }
    EXPECT_EQ(entries(t / "rel"), std::vector<std::string>{"x-1-arm64"});
    EXPECT_EQ(entries(t / "rel/x-1-arm64"), std::vector<std::string>{"a.txt"});
    EXPECT_EQ(read_file(t / "rel/x-1-arm64/a.txt"), "alpha\n");
}

TEST(ReleaseDir, AbandonedStagingIsRemoved) {
    test::TempDir t;
    {
        ReleaseDir d(t / "rel", "x-1-arm64");
        d.add("a.txt", "alpha\n");
    }
    EXPECT_TRUE(entries(t / "rel").empty());
}

TEST(ReleaseDir, SameBytesAcceptedOtherBytesRefused) {
    test::TempDir t;
    publish_two(t / "rel", "beta\n");
    {
        ReleaseDir again(t / "rel", "x-1-arm64");
        again.add("a.txt", "alpha\n");
        again.add("b.txt", "beta\n");
        EXPECT_EQ(again.commit(), CommitOutcome::AlreadyPublished);
    }
    try {
        publish_two(t / "rel", "other\n");
        FAIL() << "other bytes were accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        std::string what = e.what();
        EXPECT_NE(what.find(t / "rel/x-1-arm64: already published with other contents"),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find("b.txt (different bytes)"), std::string::npos) << what;
        EXPECT_EQ(what.find("a.txt"), std::string::npos) << what;
    }
    try {
        ReleaseDir fewer(t / "rel", "x-1-arm64");
        fewer.add("a.txt", "alpha\n");
        fewer.add("c.txt", "gamma\n");
        fewer.commit();
        FAIL() << "other names were accepted";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("b.txt (only in the published release)"), std::string::npos) << what;
        EXPECT_NE(what.find("c.txt (missing from the published release)"), std::string::npos)
            << what;
    }
    EXPECT_EQ(read_file(t / "rel/x-1-arm64/b.txt"), "beta\n");
    EXPECT_EQ(entries(t / "rel"), std::vector<std::string>{"x-1-arm64"});
}

TEST(ReleaseDir, StaleStagingOfKilledRunsRemovedNothingElse) {
    test::TempDir t;
    fs::create_directories(t / "rel");
    // A killed run's staging directory (marker, unlocked), one without the
    // marker but not empty, and look-alike files and directories of others.
    test::write_text(t / "rel/.x-1-arm64.tmp-AbCdEf/.sysext-build-staging", "");
    test::write_text(t / "rel/.x-1-arm64.tmp-AbCdEf/x.raw", "partial");
    test::write_text(t / "rel/.y-2-x86-64.tmp-123456/keep", "not ours");
    fs::create_directories(t / "rel/.z-3-x86-64.tmp-qwerty"); // empty: killed before the marker
    test::write_text(t / "rel/.file.tmp-zzzzzz", "a file");
    test::write_text(t / "rel/.other/keep", "x");
    // A live run's staging directory is locked and stays.
    test::write_text(t / "rel/.w-1-arm64.tmp-LIVE01/.sysext-build-staging", "");
    Fd live = open_or_throw(t / "rel/.w-1-arm64.tmp-LIVE01", O_RDONLY | O_DIRECTORY);
    ASSERT_EQ(::flock(live.get(), LOCK_EX | LOCK_NB), 0);
    {
        ReleaseDir d(t / "rel", "x-1-arm64");
        d.add("a.txt", "alpha\n");
        d.commit();
    }
    EXPECT_EQ(entries(t / "rel"),
              (std::vector<std::string>{".file.tmp-zzzzzz", ".other", ".w-1-arm64.tmp-LIVE01",
                                        ".y-2-x86-64.tmp-123456", "x-1-arm64"}));
}

} // namespace sysext::publish

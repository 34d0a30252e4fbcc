// Contents reports from hand-made entries: exact texts, since other tools
// (publish, people diffing releases) read them.
#include "sysext/inspect/contents.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace sysext::inspect {

namespace {

image::ImageEntry entry(std::string path, char type, uint32_t mode, uint64_t size = 0,
                           uint32_t inode = 0, uint32_t nlink = 1) {
    image::ImageEntry e;
    e.path = std::move(path);
    e.type = type;
    e.mode = mode;
    e.size = size;
    e.inode = inode;
    e.nlink = nlink;
    return e;
}

std::vector<image::ImageEntry> sample() {
    std::vector<image::ImageEntry> v;
    v.push_back(entry("", 'd', 0755));
    v.push_back(entry("usr", 'd', 0755));
    v.push_back(entry("usr/bin", 'd', 0755));
    auto link = entry("usr/bin/docker", 'l', 0777, 6, 2);
    link.target = "podman";
    v.push_back(link);
    v.push_back(entry("usr/bin/podman", 'f', 04755, 12345, 1));
    v.push_back(entry("usr/lib", 'd', 0755));
    v.push_back(entry("usr/lib/a", 'f', 0644, 100, 3, 2));
    v.push_back(entry("usr/lib/b", 'f', 0644, 100, 3, 2)); // hard link to a
    v.push_back(entry("usr/lib/deep", 'd', 0700));
    v.push_back(entry("usr/lib/deep/er", 'd', 01777));
    auto owned = entry("usr/lib/deep/er/x\ny", 'f', 02640, 7, 4);
    owned.uid = 1000;
    owned.gid = 100;
    v.push_back(owned);
    v.push_back(entry("usr/lib/dev", 'c', 0600));
    v.back().rdev = (1u << 8) | 3u; // 1,3 (/dev/null)
    return v;
}

} // namespace

TEST(Contents, ModeStringsAsLsShowsThem) {
    EXPECT_EQ(mode_string(entry("f", 'f', 04755)), "-rwsr-xr-x");
    EXPECT_EQ(mode_string(entry("f", 'f', 04644)), "-rwSr--r--");
    EXPECT_EQ(mode_string(entry("f", 'f', 02750)), "-rwxr-s---");
    EXPECT_EQ(mode_string(entry("d", 'd', 01777)), "drwxrwxrwt");
    EXPECT_EQ(mode_string(entry("d", 'd', 01770)), "drwxrwx--T");
    EXPECT_EQ(mode_string(entry("l", 'l', 0777)), "lrwxrwxrwx");
    EXPECT_EQ(mode_string(entry("p", 'p', 0644)), "prw-r--r--");
}

TEST(Contents, ListingHasOneStableLinePerEntry) {
    EXPECT_EQ(contents_listing(sample()), "drwxr-xr-x 0:0 0 .\n"
                                          "drwxr-xr-x 0:0 0 usr\n"
                                          "drwxr-xr-x 0:0 0 usr/bin\n"
                                          "lrwxrwxrwx 0:0 6 usr/bin/docker -> podman\n"
                                          "-rwsr-xr-x 0:0 12345 usr/bin/podman\n"
                                          "drwxr-xr-x 0:0 0 usr/lib\n"
                                          "-rw-r--r-- 0:0 100 usr/lib/a\n"
                                          "-rw-r--r-- 0:0 100 usr/lib/b\n"
                                          "drwx------ 0:0 0 usr/lib/deep\n"
                                          "drwxrwxrwt 0:0 0 usr/lib/deep/er\n"
                                          "-rw-r-S--- 1000:100 7 usr/lib/deep/er/x\\x0ay\n"
                                          "crw------- 0:0 1,3 usr/lib/dev\n");
}

TEST(Contents, UsageIsCumulativeDepthLimitedAndCountsHardLinksOnce) {
    EXPECT_EQ(usage_by_directory(sample(), 3), "12452\t.\n"
                                               "12452\tusr\n"
                                               "12345\tusr/bin\n"
                                               "107\tusr/lib\n"
                                               "7\tusr/lib/deep\n");
    EXPECT_EQ(usage_by_directory(sample(), 1), "12452\t.\n12452\tusr\n");
    EXPECT_EQ(usage_by_directory(sample(), 0), "12452\t.\n");
}

TEST(Contents, ListingIsSortedWhateverTheInputOrder) {
    auto v = sample();
    std::reverse(v.begin(), v.end());
    EXPECT_EQ(contents_listing(v), contents_listing(sample()));
    EXPECT_EQ(contents_json(v), contents_json(sample()));
}

TEST(Contents, JsonHasEveryField) {
    auto v = sample();
    v[4].xattrs["security.capability"] = std::string("\x01\x00", 2);
    nlohmann::json j = contents_json(v);
    ASSERT_EQ(j.size(), v.size());
    EXPECT_EQ(j[4]["path"], "usr/bin/podman");
    EXPECT_EQ(j[4]["type"], "f");
    EXPECT_EQ(j[4]["mode"], "4755");
    EXPECT_EQ(j[4]["size"], 12345);
    EXPECT_EQ(j[4]["xattrs"]["security.capability"], "0100");
    EXPECT_EQ(j[3]["target"], "podman");
    EXPECT_EQ(j[10]["uid"], 1000);
    EXPECT_EQ(j[11]["device"], "1,3");
    EXPECT_FALSE(j[0].contains("target"));
}

TEST(Contents, TotalsAndLargestFiles) {
    ContentsTotals t = contents_totals(sample());
    EXPECT_EQ(t.entries, 12u);
    EXPECT_EQ(t.directories, 6u);
    EXPECT_EQ(t.files, 4u);
    EXPECT_EQ(t.symlinks, 1u);
    EXPECT_EQ(t.other, 1u);
    EXPECT_EQ(t.file_bytes, 12452u);
    auto top = largest_files(sample(), 2);
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].path, "usr/bin/podman");
    EXPECT_EQ(top[1].path, "usr/lib/a");
}

} // namespace sysext::inspect

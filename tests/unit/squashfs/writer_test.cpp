// The writer's images are judged by unsquashfs (squashfs-tools), not by us.
#include "squashfs/test_image.hpp"
#include "sysext/squashfs/writer.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

namespace sysext::squashfs {

namespace {

using test::add_special_entries;
using test::inline_file;
using test::pack_sha256;

tree::Tree sample_tree() {
    tree::Tree t;
    t.set_default_mtime(1700000000);
    std::string big;
    for (int i = 0; i < 40000; ++i)
        big += "line " + std::to_string(i) + "\n";
    t.add("usr/bin/tool", inline_file("#!/bin/sh\necho hi\n", 04755));
    t.add("usr/share/big.txt", inline_file(big));
    t.add("usr/share/copy.txt", inline_file(big));
    t.add("usr/share/empty", inline_file(""));
    t.add("usr/share/zeros", inline_file(std::string(3 << 20, '\0')));
    add_special_entries(t);
    tree::Node& owned = t.add("usr/share/owned", inline_file("x"));
    owned.uid = 1000;
    owned.gid = 100;
    owned.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20)},
                    {"user.comment", "hello"}};
    t.walk([](tree::Node& n) { n.mtime = 1700000000; });
    t.finalize();
    return t;
}

} // namespace

TEST(Writer, UnsquashfsListsEveryEntryWithModesOwnersAndTargets) {
    test::TempDir dir;
    auto t = sample_tree();
    WriterOptions o;
    o.mtime = 1700000000;
    pack_sha256(t, dir / "img.raw", o);
    int status = 0;
    std::string listing = test::run("unsquashfs -lln -UTC " + dir / "img.raw" + " 2>&1", &status);
    ASSERT_EQ(status, 0) << listing;
    EXPECT_NE(listing.find("-rwsr-xr-x 0/0                      18 2023-11-14 22:13 squashfs-root/usr/bin/tool"), std::string::npos) << listing;
    EXPECT_NE(listing.find("lrwxrwxrwx 0/0                      16 2023-11-14 22:13 squashfs-root/usr/bin/link -> ../share/big.txt"), std::string::npos) << listing;
    EXPECT_NE(listing.find("prw-r--r-- 0/0"), std::string::npos) << listing;
    EXPECT_NE(listing.find("drwxrwxrwt 0/0"), std::string::npos) << listing;
    EXPECT_NE(listing.find("-rw-r--r-- 1000/100                  1 2023-11-14 22:13 squashfs-root/usr/share/owned"), std::string::npos) << listing;
    EXPECT_EQ(test::run("unsquashfs -cat " + dir / "img.raw" + " usr/bin/tool"), "#!/bin/sh\necho hi\n");

    // Extract and compare contents, hard links and xattrs with outside tools.
    std::string x = dir / "x";
    ASSERT_EQ(std::system(("unsquashfs -q -n -d " + x + " " + dir / "img.raw" + " >/dev/null").c_str()), 0);
    struct stat a, b;
    ASSERT_EQ(::lstat((x + "/usr/share/a").c_str(), &a), 0);
    ASSERT_EQ(::lstat((x + "/usr/share/b").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(a.st_nlink, 2u);
    EXPECT_EQ(test::run("cmp " + x + "/usr/share/big.txt " + x + "/usr/share/copy.txt && echo same"), "same\n");
    EXPECT_EQ(test::run("getfattr --only-values -n user.comment " + x + "/usr/share/owned"), "hello");
    EXPECT_NE(test::run("getcap " + x + "/usr/share/owned").find("cap_net_raw=ep"), std::string::npos);
}

TEST(Writer, SameBytesWhateverTheThreadCountAndPaddedTo4K) {
    test::TempDir dir;
    auto t = sample_tree();
    WriterOptions o;
    o.jobs = 1;
    std::string one = pack_sha256(t, dir / "one.raw", o);
    o.jobs = 2;
    std::string two = pack_sha256(t, dir / "two.raw", o);
    o.jobs = 5;
    std::string five = pack_sha256(t, dir / "five.raw", o);
    EXPECT_EQ(one, two);
    EXPECT_EQ(one, five);
    struct stat st;
    ASSERT_EQ(::stat((dir / "one.raw").c_str(), &st), 0);
    EXPECT_EQ(st.st_size % 4096, 0);
}

TEST(Writer, EveryCompressorGivesAnImageUnsquashfsReads) {
    test::TempDir dir;
    auto t = sample_tree();
    for (const char* spec : {"zstd:1", "xz", "gzip:6", "lz4", "lz4:hc"}) {
        WriterOptions o;
        o.compression = Compression::parse(spec);
        o.block_size = 64 * 1024;
        std::string img = dir / (std::string(spec).substr(0, 4) + ".raw");
        pack_sha256(t, img, o);
        int status = 0;
        std::string out = test::run("unsquashfs -s " + img + " 2>&1", &status);
        EXPECT_EQ(status, 0) << spec << ": " << out;
        EXPECT_NE(out.find("Block size 65536"), std::string::npos) << out;
        EXPECT_EQ(test::run("unsquashfs -cat " + img + " usr/share/a"), "same inode") << spec;
    }
}

TEST(Writer, SuperblockTimeComesFromOptions) {
    test::TempDir dir;
    auto t = sample_tree();
    WriterOptions o;
    o.mtime = 1234567890;
    pack_sha256(t, dir / "img.raw", o);
    std::string out = test::run("unsquashfs -UTC -s " + dir / "img.raw");
    EXPECT_NE(out.find("Fri Feb 13 23:31:30 2009"), std::string::npos) << out;
}

// A file that fails while its data is read (here it shrank after the scan) stops
// the pack with its own error; under the sanitizers, nothing of the partly
// filled block may leak.
TEST(Writer, AFileFailingMidwayStopsThePackAndLeaksNothing) {
    test::TempDir dir;
    test::write_text(dir / "shrunk", std::string(200000, 'x'));
    tree::Tree t;
    tree::Node n;
    n.type = tree::NodeType::File;
    n.content.kind = tree::Content::Kind::Disk;
    n.content.disk_path = dir / "shrunk";
    n.content.size = 300000;
    t.add("usr/share/shrunk", std::move(n));
    t.finalize();
    try {
        test::write_image_file(t, dir / "img.raw", WriterOptions{});
        FAIL() << "packed a file that shrank";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("shrunk: file changed while it was being packed"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "img.raw"));
}

} // namespace sysext::squashfs

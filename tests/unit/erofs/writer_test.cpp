// The EROFS writer's images are judged by erofs-utils (fsck.erofs extracts
// them, dump.erofs describes inodes), not by us.
#include "squashfs/test_image.hpp"
#include "sysext/erofs/writer.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sys/stat.h>

namespace sysext::erofs {

namespace {

using test::inline_file;

constexpr uint32_t k_time = 1700000000;

std::string lines(int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
        s += "line " + std::to_string(i) + "\n";
    return s;
}

std::string noise(size_t n, uint32_t seed) {
    std::string s(n, '\0');
    for (auto& c : s) {
        seed = seed * 1103515245u + 12345u;
        c = static_cast<char>(seed >> 16);
    }
    return s;
}

tree::Tree sample_tree() {
    tree::Tree t;
    t.set_default_mtime(k_time);
    t.add("usr/bin/tool", inline_file("#!/bin/sh\necho hi\n", 04755));
    t.add("usr/share/big.txt", inline_file(lines(40000)));
    t.add("usr/share/huge.txt", inline_file(lines(1200000))); // over two segments
    t.add("usr/share/noise", inline_file(noise(300000, 7)));
    t.add("usr/share/empty", inline_file(""));
    t.add("usr/share/zeros", inline_file(std::string(3 << 20, '\0')));
    t.add("usr/share/exact", inline_file(std::string(8192, 'e')));
    test::add_special_entries(t);
    for (int i = 0; i < 300; ++i)
        t.add("usr/lib/many/a-name-long-enough-to-fill-blocks-" + std::to_string(i),
              inline_file(std::to_string(i)));
    tree::Node& owned = t.add("usr/share/owned", inline_file("x"));
    owned.uid = 100000; // needs an extended inode
    owned.gid = 100;
    owned.xattrs = {
        {"security.capability",
         std::string(
             "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
             20)},
        {"user.comment", "hello"}};
    for (const char* p : {"usr/bin/tool", "usr/share/exact", "usr/share/empty"})
        t.find(p)->xattrs = {{"user.shared", "on three inodes"}};
    t.walk([](tree::Node& n) { n.mtime = k_time; });
    t.finalize();
    return t;
}

std::string write(const tree::Tree& t, const std::string& path, const WriterOptions& o) {
    AtomicFile out(path);
    write_image(t, out.fd(), o, null_reporter());
    out.commit();
    return to_hex(sha256_file(path));
}

WriterOptions options(const std::string& compression, unsigned jobs = 2) {
    WriterOptions o;
    o.compression = Compression::parse(compression);
    o.mtime = k_time;
    o.jobs = jobs;
    return o;
}

// fsck.erofs checks the image and extracts it; every file must read back.
void expect_extracts(const tree::Tree& t, const std::string& image, const std::string& dir) {
    int status = 0;
    std::string out = test::run("fsck.erofs --extract=" + dir + " " + image + " 2>&1", &status);
    ASSERT_EQ(status, 0) << out;
    t.walk([&](const tree::Node& n) {
        const std::string path = dir + "/" + n.path();
        if (n.type == tree::NodeType::File) {
            const tree::Node& i = n.inode();
            std::string want = i.content.bytes ? *i.content.bytes : "";
            EXPECT_TRUE(read_file(path, 1 << 30) == want) << n.path(); // no megabytes in the log
        } else if (n.type == tree::NodeType::Symlink) {
            EXPECT_EQ(std::filesystem::read_symlink(path).string(), n.link_target);
        } else if (n.is_dir()) {
            EXPECT_TRUE(std::filesystem::is_directory(path)) << n.path();
        }
    });
}

} // namespace

TEST(ErofsWriter, FsckExtractsEveryEntryUncompressed) {
    test::TempDir dir;
    auto t = sample_tree();
    write(t, dir / "img.raw", options("none"));
    expect_extracts(t, dir / "img.raw", dir / "x");
    // Multiple directory blocks: every name is there.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "x/usr/lib/many"),
                            std::filesystem::directory_iterator{}),
              300);
}

TEST(ErofsWriter, FsckExtractsEveryEntryCompressed) {
    // 4 KiB pclusters take full indexes (layout 1), larger ones compact ones (3).
    // Tail packing puts files' ends after their inodes.
    struct Case {
        const char* compression;
        uint32_t pcluster;
        const char* layout;
        bool tails;
    };
    for (const Case& c :
         {Case{"lz4", 4096, "Layout: 1", false}, Case{"lz4hc:9", 65536, "Layout: 3", false},
          Case{"lz4", 1 << 20, "Layout: 3", false}, Case{"lz4hc", 65536, "Layout: 3", true},
          Case{"lz4", 4096, "Layout: 1", true}}) {
        test::TempDir dir;
        auto t = sample_tree();
        WriterOptions o = options(c.compression);
        o.pcluster_size = c.pcluster;
        o.tail_packing = c.tails;
        write(t, dir / "img.raw", o);
        expect_extracts(t, dir / "img.raw", dir / "x");
        std::string info = test::run("dump.erofs --path=/usr/share/huge.txt " + dir / "img.raw");
        EXPECT_NE(info.find(c.layout), std::string::npos) << info;
    }
}

TEST(ErofsWriter, DumpShowsInodeFormsOwnersLinksAndLayouts) {
    test::TempDir dir;
    auto t = sample_tree();
    write(t, dir / "img.raw", options("lz4hc"));
    auto dump = [&](const std::string& p) {
        return test::run("dump.erofs --path=/" + p + " " + dir / "img.raw" + " 2>&1");
    };
    std::string owned = dump("usr/share/owned");
    EXPECT_NE(owned.find("Inode size: 64"), std::string::npos) << owned;
    EXPECT_NE(owned.find("Uid: 100000   Gid: 100"), std::string::npos) << owned;
    std::string link = dump("usr/share/b");
    EXPECT_NE(link.find("Links: 2"), std::string::npos) << link;
    auto nid = [](const std::string& info) {
        size_t at = info.find("NID: ");
        return at == std::string::npos ? std::string()
                                       : info.substr(at + 5, info.find(' ', at + 5) - at - 5);
    };
    EXPECT_FALSE(nid(link).empty()) << link;
    EXPECT_EQ(nid(dump("usr/share/a")), nid(link)); // one inode, two names
    // Small files stay uncompressed with their bytes inline (layout 2).
    EXPECT_NE(dump("usr/bin/tool").find("Layout: 2"), std::string::npos);
    EXPECT_NE(dump("usr/share/exact").find("Layout: 3"), std::string::npos);
    std::string sb = test::run("dump.erofs -s " + dir / "img.raw");
    EXPECT_NE(sb.find("UUID:                              00000000-0000-0000-0000-000000000000"),
              std::string::npos)
        << sb;
}

TEST(ErofsWriter, TailPackingStoresFileEndsAfterTheirInodes) {
    test::TempDir dir;
    tree::Tree t;
    t.add("usr/share/a.txt", inline_file(lines(3000))); // 23 KiB: one extent, in less than a block
    t.add("usr/share/b.txt", inline_file(lines(40000)));
    // Indexes of more than a block: no room for a tail; the last extent must
    // not be a compressed one in the last lcluster (fsck.erofs found that).
    std::string big = lines(1100000);
    t.add("usr/share/big-aligned", inline_file(big.substr(0, big.size() / 4096 * 4096)));
    for (int i = 0; i < 20; ++i) // ends that take part of a block each without tail packing
        t.add("usr/share/c" + std::to_string(i), inline_file(lines(9000 + 700 * i)));
    t.add("usr/share/noise", inline_file(noise(10000, 3))); // stored as it is
    t.finalize();
    WriterOptions o = options("lz4hc");
    const std::string plain = write(t, dir / "plain.raw", o);
    o.tail_packing = true;
    write(t, dir / "tails.raw", o);
    expect_extracts(t, dir / "tails.raw", dir / "x");
    EXPECT_LT(std::filesystem::file_size(dir / "tails.raw"),
              std::filesystem::file_size(dir / "plain.raw"));
    // The superblock says ZTAILPACKING (0x10) in its incompatible features.
    std::string img = read_file(dir / "tails.raw", 16 << 20);
    EXPECT_EQ(static_cast<uint8_t>(img[1024 + 80]) & 0x10, 0x10);
    std::string info = test::run("dump.erofs --path=/usr/share/a.txt " + dir / "tails.raw");
    EXPECT_NE(info.find("Layout: 3"), std::string::npos) << info;
}

TEST(ErofsWriter, SparseFilesTakeNoRoomWhenUncompressed) {
    test::TempDir dir;
    tree::Tree t;
    std::string sparse(2 << 20, '\0');
    sparse[1 << 20] = 'x';
    t.add("usr/share/sparse", inline_file(sparse));
    t.finalize();
    write(t, dir / "img.raw", options("none"));
    std::string info = test::run("dump.erofs --path=/usr/share/sparse " + dir / "img.raw");
    EXPECT_NE(info.find("Layout: 4"), std::string::npos) << info; // chunk-based
    EXPECT_LT(std::filesystem::file_size(dir / "img.raw"), 5 * 4096u);
    expect_extracts(t, dir / "img.raw", dir / "x");
}

TEST(ErofsWriter, SameBytesForAnyNumberOfThreads) {
    test::TempDir dir;
    auto t = sample_tree();
    std::string one = write(t, dir / "1.raw", options("lz4hc", 1));
    EXPECT_EQ(write(t, dir / "2.raw", options("lz4hc", 2)), one);
    EXPECT_EQ(write(t, dir / "5.raw", options("lz4hc", 5)), one);
}

TEST(ErofsWriter, AnXattrEROFSCannotNameIsAnInputError) {
    test::TempDir dir;
    tree::Tree t;
    tree::Node& f = t.add("usr/x", inline_file("x"));
    f.xattrs = {{"system.other", "v"}};
    t.finalize();
    try {
        write(t, dir / "img.raw", options("none"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()),
                  "usr/x: extended attribute \"system.other\" has no prefix "
                  "EROFS can store (user., trusted., security., POSIX ACLs)");
    }
}

} // namespace sysext::erofs

// The EROFS reader reads images of our writer and of mkfs.erofs (erofs-utils)
// back to what was packed: every entry's type, mode, owners, size, link
// target, hard links and xattrs, and every file's bytes. e2e.erofs_read
// compares its listings with the kernel's view of the same images.
#include "squashfs/test_image.hpp"
#include "sysext/erofs/reader.hpp"
#include "sysext/erofs/writer.hpp"
#include "sysext/image/reader.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <filesystem>
#include <map>

namespace sysext::erofs {

namespace {

using image::ImageEntry;
using image::ImageListing;
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

std::string sparse() {
    std::string s(3 << 20, '\0');
    s.replace(1 << 20, 5, "hello");
    s.replace(s.size() - 3, 3, "end");
    return s;
}

tree::Tree sample_tree() {
    tree::Tree t;
    t.set_default_mtime(k_time);
    t.add("usr/bin/tool", inline_file("#!/bin/sh\necho hi\n", 04755));
    t.add("usr/bin/group", inline_file("g", 02750));
    t.add("usr/share/big.txt", inline_file(lines(40000)));
    t.add("usr/share/huge.txt", inline_file(lines(300000)));
    t.add("usr/share/noise", inline_file(noise(100000, 7)));
    t.add("usr/share/empty", inline_file(""));
    t.add("usr/share/exact", inline_file(std::string(8192, 'e')));
    t.add("usr/share/sparse", inline_file(sparse()));
    test::add_special_entries(t);
    for (int i = 0; i < 300; ++i) // a directory of several blocks
        t.add("usr/lib/many/a-name-long-enough-to-fill-blocks-" + std::to_string(i),
              inline_file(std::to_string(i)));
    tree::Node& owned = t.add("usr/share/owned", inline_file("x"));
    owned.uid = 100000; // an extended inode
    owned.gid = 100;
    owned.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8)},
                    {"user.comment", "hello"}};
    for (const char* p : {"usr/bin/tool", "usr/share/exact", "usr/share/empty"})
        t.find(p)->xattrs = {{"user.shared", "on three inodes"}}; // a shared xattr
    t.add("usr/lib/extension-release.d/extension-release.demo", inline_file("ID=_any\n"));
    t.walk([](tree::Node& n) { n.mtime = k_time; });
    t.finalize();
    return t;
}

void write(const tree::Tree& t, const std::string& path, const std::string& compression,
           uint32_t pcluster = 65536, bool tails = false) {
    WriterOptions o;
    o.compression = Compression::parse(compression);
    o.mtime = k_time;
    o.jobs = 2;
    o.pcluster_size = pcluster;
    o.tail_packing = tails;
    AtomicFile out(path);
    write_image(t, out.fd(), o, null_reporter());
    out.commit();
}

const ImageEntry& find(const ImageListing& l, const std::string& path) {
    for (const auto& e : l.entries)
        if (e.path == path)
            return e;
    throw std::runtime_error("no entry " + path);
}

char type_of(const tree::Node& n) {
    switch (n.type) {
    case tree::NodeType::Directory:
        return 'd';
    case tree::NodeType::Symlink:
        return 'l';
    case tree::NodeType::Fifo:
        return 'p';
    default:
        return 'f';
    }
}

// Every node of the tree is an entry as packed; every file reads back.
void expect_tree(const tree::Tree& t, const std::string& image) {
    ImageListing l = read_image(image);
    EXPECT_EQ(l.summary.format, "erofs");
    EXPECT_EQ(l.summary.block_size, 4096u);
    EXPECT_EQ(l.summary.bytes_used, std::filesystem::file_size(image));
    size_t nodes = 0;
    t.walk([&](const tree::Node& n) {
        ++nodes;
        const ImageEntry& e = find(l, n.path());
        const tree::Node& i = n.inode();
        EXPECT_EQ(e.type, type_of(i)) << n.path();
        EXPECT_EQ(e.mode, i.mode & 07777) << n.path();
        EXPECT_EQ(e.uid, i.uid) << n.path();
        EXPECT_EQ(e.gid, i.gid) << n.path();
        std::map<std::string, std::string> xattrs;
        for (const auto& x : i.xattrs)
            xattrs[x.key] = x.value;
        EXPECT_EQ(e.xattrs, xattrs) << n.path();
        if (e.type == 'l') {
            EXPECT_EQ(e.target, i.link_target);
        }
        if (e.type == 'f') {
            const std::string want = i.content.bytes ? *i.content.bytes : "";
            EXPECT_EQ(e.size, want.size()) << n.path();
            EXPECT_TRUE(read_image_file(image, n.path(), 64 << 20) == want) << n.path();
        }
    });
    EXPECT_EQ(l.entries.size(), nodes);
    EXPECT_EQ(l.entries.front().path, "");
    EXPECT_EQ(find(l, "usr/share/a").inode, find(l, "usr/share/b").inode);
    EXPECT_EQ(find(l, "usr/share/a").nlink, 2u);
    EXPECT_NE(find(l, "usr/share/a").inode, find(l, "usr/share/owned").inode);
}

} // namespace

TEST(ErofsReader, ReadsOurWriterImagesInEveryLayout) {
    struct Case {
        const char* compression;
        uint32_t pcluster;
        bool tails;
    };
    for (const Case& c :
         {Case{"none", 0, false}, Case{"lz4", 4096, false}, Case{"lz4hc:9", 65536, false},
          Case{"lz4", 1 << 20, false}, Case{"lz4hc", 65536, true}, Case{"lz4", 4096, true}}) {
        SCOPED_TRACE(std::string(c.compression) + " " + std::to_string(c.pcluster) +
                     (c.tails ? " tails" : ""));
        test::TempDir dir;
        auto t = sample_tree();
        write(t, dir / "img.raw", c.compression, c.pcluster ? c.pcluster : 65536, c.tails);
        expect_tree(t, dir / "img.raw");
        EXPECT_EQ(read_image(dir / "img.raw").summary.compressor,
                  std::string(c.compression) == "none" ? "none" : "lz4");
    }
}

TEST(ErofsReader, ReadsAnImageInsideALargerFile) {
    test::TempDir dir;
    auto t = sample_tree();
    write(t, dir / "img.raw", "lz4hc");
    std::string bytes = read_file(dir / "img.raw", 64 << 20);
    std::string disk = std::string(1 << 20, 'x') + bytes + std::string(8192, 'y');
    test::write_text(dir / "disk.img", disk);
    ImageListing l = read_image(dir / "disk.img", 1 << 20, bytes.size());
    EXPECT_EQ(l.entries.size(), read_image(dir / "img.raw").entries.size());
    Fd fd = open_or_throw(dir / "disk.img", O_RDONLY);
    EXPECT_EQ(read_image_file(fd.get(), "DISK: root partition", "usr/bin/tool", 100, 1 << 20,
                              bytes.size()),
              "#!/bin/sh\necho hi\n");
    auto release =
        read_image_dir(fd.get(), "DISK", "usr/lib/extension-release.d", 1 << 20, bytes.size());
    ASSERT_EQ(release.size(), 1u);
    EXPECT_EQ(release[0].path, "usr/lib/extension-release.d/extension-release.demo");
    EXPECT_EQ(release[0].size, 8u);
    // The window holds what the superblock says: one byte less is a truncated image.
    try {
        read_image(dir / "disk.img", 1 << 20, bytes.size() - 4096);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), dir / "disk.img" +
                                             ": truncated: the superblock says the image has " +
                                             std::to_string(bytes.size()) + " bytes, only " +
                                             std::to_string(bytes.size() - 4096) + " are there");
    }
}

TEST(ErofsReader, SingleFilesAndDirectoriesAreFoundOrRefused) {
    test::TempDir dir;
    write(sample_tree(), dir / "img.raw", "lz4hc");
    const std::string img = dir / "img.raw";
    EXPECT_EQ(read_image_file(img, "/usr//share/empty", 10), "");
    auto error = [&](auto&& f) {
        try {
            f();
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Input);
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(error([&] { read_image_file(img, "usr/share/big.txt", 1000); }),
              img + ": usr/share/big.txt: " + std::to_string(lines(40000).size()) +
                  " bytes, more than the 1000 allowed");
    EXPECT_EQ(error([&] { read_image_file(img, "usr/share/missing", 1000); }),
              img + ": usr/share/missing: no such file in the image");
    EXPECT_EQ(error([&] { read_image_file(img, "usr/bin/link", 1000); }),
              img + ": usr/bin/link: not a regular file in the image");
    EXPECT_EQ(error([&] { read_image_file(img, "usr/bin/tool/x", 1000); }),
              img + ": usr/bin/tool/x: usr/bin/tool is not a directory");
    Fd fd = open_or_throw(img, O_RDONLY);
    EXPECT_EQ(error([&] { read_image_dir(fd.get(), "IMG", "usr/bin/tool", 0, 0); }),
              "IMG: usr/bin/tool: not a directory in the image");
}

TEST(ErofsReader, TheImageEntryPointTellsTheFormatsApart) {
    test::TempDir dir;
    auto t = sample_tree();
    write(t, dir / "img.erofs", "lz4");
    squashfs::WriterOptions so;
    so.mtime = k_time;
    test::write_image_file(t, dir / "img.sqfs", so);
    ImageListing e = image::read_image(dir / "img.erofs");
    ImageListing s = image::read_image(dir / "img.sqfs");
    EXPECT_EQ(e.summary.format, "erofs");
    EXPECT_EQ(s.summary.format, "squashfs");
    ASSERT_EQ(e.entries.size(), s.entries.size());
    for (size_t i = 0; i < e.entries.size(); ++i) {
        EXPECT_EQ(e.entries[i].path, s.entries[i].path);
        EXPECT_EQ(e.entries[i].type, s.entries[i].type) << e.entries[i].path;
        EXPECT_EQ(e.entries[i].mode, s.entries[i].mode) << e.entries[i].path;
        EXPECT_EQ(e.entries[i].xattrs, s.entries[i].xattrs) << e.entries[i].path;
        if (e.entries[i].type != 'd') {
            EXPECT_EQ(e.entries[i].size, s.entries[i].size) << e.entries[i].path;
        }
    }
    EXPECT_EQ(image::read_image_file(dir / "img.erofs", "usr/share/huge.txt", 64 << 20),
              image::read_image_file(dir / "img.sqfs", "usr/share/huge.txt", 64 << 20));
    test::write_text(dir / "notes.txt", std::string(2000, 'n'));
    try {
        image::read_image(dir / "notes.txt");
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(std::string(err.what()),
                  dir / "notes.txt" +
                      ": not a squashfs or EROFS image (no \"hsqs\" at byte 0, no EROFS magic at "
                      "byte 1024)");
    }
}

// mkfs.erofs from erofs-utils, with the settings Flatcar and others use, on a
// tree on disk: what it packs reads back as the kernel would show it.
TEST(ErofsReader, ReadsMkfsErofsImages) {
    if (std::system("command -v mkfs.erofs >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "no mkfs.erofs";
    test::TempDir dir;
    const std::string src = dir / "src";
    test::write_text(src + "/usr/bin/tool", "#!/bin/sh\necho hi\n");
    ::chmod((src + "/usr/bin/tool").c_str(), 04755);
    test::write_text(src + "/usr/share/big.txt", lines(200000));
    test::write_text(src + "/usr/share/noise", noise(200000, 3));
    test::write_text(src + "/usr/share/small", "small\n");
    test::write_text(src + "/usr/share/empty", "");
    test::write_text(src + "/usr/share/exact", std::string(8192, 'e'));
    test::write_text(src + "/usr/share/sparse", sparse());
    for (int i = 0; i < 300; ++i)
        test::write_text(src + "/usr/lib/many/a-name-long-enough-to-fill-blocks-" +
                             std::to_string(i),
                         std::to_string(i));
    std::filesystem::create_hard_link(src + "/usr/share/small", src + "/usr/share/small-link");
    std::filesystem::create_symlink("../share/big.txt", src + "/usr/bin/link");
    std::filesystem::create_symlink(std::string(300, 'l'), src + "/usr/bin/long-link");
    ::setxattr((src + "/usr/share/small").c_str(), "user.comment", "hello", 5, 0);
    ::setxattr((src + "/usr/bin/tool").c_str(), "user.comment", "hello", 5, 0);
    ::setxattr((src + "/usr/share/exact").c_str(), "user.comment", "hello", 5, 0);
    // security.capability needs CAP_SETFCAP; tested where the test may set it.
    const std::string cap("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                          "\x00\x00\x00\x00",
                          20);
    const bool have_cap = ::setxattr((src + "/usr/bin/tool").c_str(), "security.capability",
                                     cap.data(), cap.size(), 0) == 0;
    for (const char* options :
         {"", "-zlz4", "-zlz4hc,12 -C65536 -Eztailpacking", "-zlz4hc -Eztailpacking",
          "-zlz4 -Elegacy-compress", "--chunksize=4096", "-zlz4hc -Eforce-inode-extended",
          "-Enoinline_data"}) {
        SCOPED_TRACE(options);
        const std::string img = dir / "img.raw";
        int status = 0;
        std::string out = test::run(std::string("mkfs.erofs --quiet -T0 ") + options + " " + img +
                                        " " + src + " 2>&1",
                                    &status);
        ASSERT_EQ(status, 0) << out;
        ImageListing l = read_image(img);
        size_t on_disk = 0;
        for (const auto& p : std::filesystem::recursive_directory_iterator(src)) {
            ++on_disk;
            const std::string rel = p.path().string().substr(src.size() + 1);
            struct stat st {};
            ASSERT_EQ(::lstat(p.path().c_str(), &st), 0);
            const ImageEntry& e = find(l, rel);
            EXPECT_EQ(e.mode, st.st_mode & 07777) << rel;
            EXPECT_EQ(e.uid, st.st_uid) << rel;
            if (S_ISREG(st.st_mode)) {
                EXPECT_EQ(e.type, 'f') << rel;
                EXPECT_EQ(e.nlink, st.st_nlink) << rel;
                EXPECT_TRUE(read_image_file(img, rel, 64 << 20) == read_file(p.path(), 64 << 20))
                    << rel;
            } else if (S_ISLNK(st.st_mode)) {
                EXPECT_EQ(e.target, std::filesystem::read_symlink(p.path()).string()) << rel;
            } else {
                EXPECT_EQ(e.type, 'd') << rel;
            }
        }
        EXPECT_EQ(l.entries.size(), on_disk + 1);
        EXPECT_EQ(find(l, "usr/share/small").inode, find(l, "usr/share/small-link").inode);
        EXPECT_EQ(find(l, "usr/share/small").xattrs.at("user.comment"), "hello");
        if (have_cap) {
            EXPECT_EQ(find(l, "usr/bin/tool").xattrs.at("security.capability"), cap);
        }
    }
}

} // namespace sysext::erofs

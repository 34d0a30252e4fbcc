// The reader reads images our writer packed; the e2e test (inspect.sh) checks
// it against unsquashfs on the same images. Damaged images must throw, never
// crash: this runs under ASan/UBSan in CI.
#include "squashfs/test_image.hpp"
#include "sysext/squashfs/reader.hpp"
#include "sysext/squashfs/writer.hpp"
#include "sysext/util/endian.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>

#include <filesystem>

namespace sysext::squashfs {

namespace {

using test::add_special_entries;
using test::inline_file;

std::string big_text() {
    std::string big;
    for (int i = 0; i < 40000; ++i)
        big += "line " + std::to_string(i) + "\n";
    return big;
}

tree::Tree sample_tree() {
    tree::Tree t;
    t.set_default_mtime(1700000000);
    t.add("usr/bin/tool", inline_file("#!/bin/sh\necho hi\n", 04755));
    t.add("usr/bin/group", inline_file("g", 02750));
    t.add("usr/share/big.txt", inline_file(big_text()));
    t.add("usr/share/empty", inline_file(""));
    add_special_entries(t);
    tree::Node& owned = t.add("usr/share/owned", inline_file("x"));
    owned.uid = 1000;
    owned.gid = 100;
    owned.xattrs = {{"user.comment", "hello"},
                    {"security.capability", std::string("\x01\x00\x00\x02", 4)}};
    t.add("usr/lib/extension-release.d/extension-release.demo", inline_file("ID=_any\n"));
    t.finalize();
    return t;
}

std::string pack(const tree::Tree& t, const std::string& path) {
    WriterOptions o;
    o.mtime = 1700000000;
    o.jobs = 1;
    test::write_image_file(t, path, o);
    return read_file(path);
}

const ImageEntry& find(const ImageListing& l, const std::string& path) {
    for (const auto& e : l.entries)
        if (e.path == path)
            return e;
    throw std::runtime_error("no entry " + path);
}

} // namespace

TEST(Reader, ReadsPathsModesOwnersTargetsLinksAndXattrs) {
    test::TempDir dir;
    pack(sample_tree(), dir / "img.raw");
    ImageListing l = read_image(dir / "img.raw");

    EXPECT_EQ(l.summary.compressor, "zstd");
    EXPECT_EQ(l.summary.block_size, 128u * 1024);
    EXPECT_EQ(l.summary.mtime, 1700000000u);
    ASSERT_FALSE(l.entries.empty());
    EXPECT_EQ(l.entries[0].path, "");
    EXPECT_EQ(l.entries[0].type, 'd');
    for (size_t i = 1; i < l.entries.size(); ++i)
        EXPECT_LT(l.entries[i - 1].path, l.entries[i].path);
    EXPECT_EQ(l.entries.size(), 17u); // root, usr, 5 directories below it, 10 others

    const ImageEntry& tool = find(l, "usr/bin/tool");
    EXPECT_EQ(tool.type, 'f');
    EXPECT_EQ(tool.mode, 04755u);
    EXPECT_EQ(tool.size, 18u);
    EXPECT_EQ(find(l, "usr/bin/group").mode, 02750u);
    EXPECT_EQ(find(l, "usr/tmp").mode, 01777u);
    EXPECT_EQ(find(l, "usr/tmp").type, 'd');
    EXPECT_EQ(find(l, "usr/share/big.txt").size, big_text().size());
    EXPECT_EQ(find(l, "usr/share/empty").size, 0u);
    EXPECT_EQ(find(l, "usr/share/fifo").type, 'p');

    const ImageEntry& link = find(l, "usr/bin/link");
    EXPECT_EQ(link.type, 'l');
    EXPECT_EQ(link.target, "../share/big.txt");
    EXPECT_EQ(link.size, 16u);

    const ImageEntry& a = find(l, "usr/share/a");
    const ImageEntry& b = find(l, "usr/share/b");
    EXPECT_EQ(a.inode, b.inode);
    EXPECT_EQ(a.nlink, 2u);
    EXPECT_NE(a.inode, tool.inode);

    const ImageEntry& owned = find(l, "usr/share/owned");
    EXPECT_EQ(owned.uid, 1000u);
    EXPECT_EQ(owned.gid, 100u);
    ASSERT_EQ(owned.xattrs.size(), 2u);
    EXPECT_EQ(owned.xattrs.at("user.comment"), "hello");
    EXPECT_EQ(owned.xattrs.at("security.capability"), std::string("\x01\x00\x00\x02", 4));
    EXPECT_TRUE(tool.xattrs.empty());
}

TEST(Reader, ReadsOneFileAndRefusesWhatIsNotOne) {
    test::TempDir dir;
    pack(sample_tree(), dir / "img.raw");
    const std::string img = dir / "img.raw";
    EXPECT_EQ(read_image_file(img, "usr/bin/tool", 1024), "#!/bin/sh\necho hi\n");
    EXPECT_EQ(read_image_file(img, "usr/share/big.txt", 1 << 20), big_text());
    EXPECT_EQ(read_image_file(img, "/usr/share/empty", 10), "");
    try {
        read_image_file(img, "usr/share/big.txt", 1000);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()),
                  img + ": usr/share/big.txt: " + std::to_string(big_text().size()) +
                      " bytes, more than the 1000 allowed");
    }
    try {
        read_image_file(img, "usr/share/missing", 1000);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), img + ": usr/share/missing: no such file in the image");
    }
    EXPECT_THROW(read_image_file(img, "usr/bin/link", 1000), Error);
    EXPECT_THROW(read_image_file(img, "usr/share", 1000), Error);
    EXPECT_THROW(read_image_file(img, "usr/bin/tool/x", 1000), Error);
}

TEST(Reader, ReadsAnImageAtAnOffsetInsideALargerFile) {
    test::TempDir dir;
    std::string bytes = pack(sample_tree(), dir / "img.raw");
    std::string disk = std::string(1 << 20, 'D') + bytes + std::string(8192, 'T');
    test::write_text(dir / "disk.img", disk);
    ImageListing l = read_image(dir / "disk.img", 1 << 20, bytes.size());
    EXPECT_EQ(find(l, "usr/bin/link").target, "../share/big.txt");
    EXPECT_EQ(read_image_file(dir / "disk.img", "usr/bin/tool", 100, 1 << 20, bytes.size()),
              "#!/bin/sh\necho hi\n");
    EXPECT_THROW(read_image(dir / "disk.img", 0, 0), Error); // no image at 0
    EXPECT_THROW(read_image(dir / "disk.img", disk.size() + 1, 0), Error);
    EXPECT_THROW(read_image(dir / "disk.img", 1 << 20, disk.size()), Error);
}

TEST(Reader, TruncatedImageThrowsNamingTheFile) {
    test::TempDir dir;
    std::string bytes = pack(sample_tree(), dir / "img.raw");
    for (size_t keep :
         {size_t(0), size_t(10), size_t(96), bytes.size() / 2, bytes.size() - 4096 - 1}) {
        test::write_text(dir / "cut.raw", bytes.substr(0, keep));
        try {
            read_image(dir / "cut.raw");
            FAIL() << "no error for " << keep << " bytes";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Input) << e.what();
            EXPECT_EQ(std::string(e.what()).rfind(dir / "cut.raw: ", 0), 0u) << e.what();
        }
    }
    test::write_text(dir / "cut.raw", bytes.substr(0, bytes.size() / 2));
    try {
        read_image(dir / "cut.raw");
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("truncated: the superblock says the image has"),
                  std::string::npos)
            << e.what();
    }
}

// Flips bytes of the superblock and of every meta data table (inodes,
// directories, fragments, IDs, xattrs: everything from the inode table on),
// one at a time: every read either succeeds (the byte did not matter) or
// throws sysext::Error. File data is not covered: squashfs has no checksums.
TEST(Reader, DamagedImagesThrowOrReadNeverCrash) {
    test::TempDir dir;
    std::string bytes = pack(sample_tree(), dir / "img.raw");
    auto le64 = [&](size_t at) {
        uint64_t v = 0;
        for (size_t i = 0; i < 8; ++i)
            v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
        return v;
    };
    const size_t inode_table = le64(64), used = le64(40);
    ASSERT_LT(inode_table, used);
    std::vector<size_t> offsets;
    for (size_t at = 0; at < 96; ++at)
        offsets.push_back(at);
    for (size_t at = inode_table; at < used; ++at)
        offsets.push_back(at);
    size_t errors = 0;
    for (size_t at : offsets) {
        for (unsigned char x : {0xffu, 0x01u, 0x80u}) {
            std::string damaged = bytes;
            damaged[at] = static_cast<char>(damaged[at] ^ x);
            test::write_text(dir / "bad.raw", damaged);
            try {
                read_image(dir / "bad.raw");
                read_image_file(dir / "bad.raw",
                                "usr/lib/extension-release.d/extension-release.demo", 4096);
            } catch (const Error& e) {
                ++errors;
                EXPECT_EQ(e.kind(), ErrorKind::Input) << e.what();
                EXPECT_EQ(std::string(e.what()).rfind(dir / "bad.raw: ", 0), 0u) << e.what();
            }
        }
    }
    EXPECT_GT(errors, offsets.size()) << "of " << 3 * offsets.size() << " damaged images";
}

// A directory entry rewritten to point at the root inode makes a loop; the
// reader must stop at the second visit. mksquashfs with -noI -noD stores the
// inode and directory tables uncompressed, so the entry can be patched in place.
TEST(Reader, DirectoryLoopIsAnErrorNotAHang) {
    test::TempDir dir;
    std::filesystem::create_directories(dir / "t/usr/zz");
    test::write_text(dir / "t/usr/file", "x");
    int status = 0;
    std::string out = test::run("mksquashfs " + dir / "t" + " " + dir / "img.raw" +
                                    " -noI -noD -noF -noX -all-root -noappend -quiet 2>&1",
                                &status);
    ASSERT_EQ(status, 0) << out;
    std::string bytes = read_file(dir / "img.raw");
    auto le = [&](size_t at, size_t n) {
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i)
            v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
        return v;
    };
    const uint64_t root_ref = le(32, 8), dir_table = le(72, 8);
    ASSERT_EQ(root_ref >> 16, 0u) << "the test expects one inode meta data block";
    // entry: offset u16, inode_diff s16, type u16 (1 = directory), size u16 (length - 1), name
    size_t at = bytes.find(std::string("\x01\x00\x01\x00zz", 6), dir_table);
    ASSERT_NE(at, std::string::npos);
    bytes[at - 4] = static_cast<char>(root_ref & 0xff);
    bytes[at - 3] = static_cast<char>((root_ref >> 8) & 0xff);
    test::write_text(dir / "loop.raw", bytes);
    try {
        read_image(dir / "loop.raw");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  dir / "loop.raw" + ": usr/zz: directory reached twice (a directory loop)");
    }
}

// Superblock fields set to extremes one at a time.
TEST(Reader, AbsurdSuperblockFieldsThrow) {
    test::TempDir dir;
    std::string bytes = pack(sample_tree(), dir / "img.raw");
    size_t errors = 0;
    // offsets of: inode_count, block_size, fragment count, root inode ref,
    // bytes_used, id/xattr/inode/dir/fragment/export table starts
    for (size_t field : {4u, 12u, 16u, 32u, 40u, 48u, 56u, 64u, 72u, 80u, 88u}) {
        for (unsigned char fill : {0x00u, 0xffu, 0x7fu}) {
            std::string damaged = bytes;
            size_t width = field < 32 ? 4 : 8;
            for (size_t i = 0; i < width; ++i)
                damaged[field + i] = static_cast<char>(fill);
            test::write_text(dir / "bad.raw", damaged);
            try {
                read_image(dir / "bad.raw");
                read_image_file(dir / "bad.raw", "usr/share/big.txt", 1 << 20);
            } catch (const Error&) {
                ++errors;
            }
        }
    }
    EXPECT_GE(errors, 20u);
}

TEST(Reader, FragmentTableLargerThanAnImageNeedsIsRefused) {
    // libsquashfs allocates and fills the fragment table the superblock claims,
    // and its index may name one small meta data block many times over: an
    // image has no more fragment blocks than entries.
    test::TempDir dir;
    std::string bytes = pack(sample_tree(), dir / "img.raw");
    auto* super = reinterpret_cast<uint8_t*>(bytes.data());
    put_le(super + 16, k_max_entries + 1, 4); // fragment_entry_count
    put_le(super + 80, 96, 8);                // fragment_table_start: the index fits
    test::write_text(dir / "bad.raw", bytes);
    try {
        read_image_file(dir / "bad.raw", "usr/share/big.txt", 1 << 20);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()),
                  dir / "bad.raw" +
                      ": fragment table of 1000001 entries; an image has at most 1000000");
    }
}

TEST(Reader, XattrValueLargerThanLinuxAllowsIsRefusedUnread) {
    // Found by fuzzing: libsquashfs allocates an xattr value at the size the
    // image claims (up to 4 GiB) before reading it.
    test::TempDir dir;
    std::string noise(200, '\0'); // incompressible: its meta data block is stored as it is
    uint32_t x = 1;
    for (char& c : noise) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 24);
    }
    tree::Tree t;
    t.add("usr/share/noisy", inline_file("x")).xattrs = {{"user.noise", noise}};
    t.finalize();
    std::string bytes = pack(t, dir / "img.raw");
    const size_t at = bytes.find(noise);
    ASSERT_NE(at, std::string::npos);
    auto* size = reinterpret_cast<uint8_t*>(bytes.data()) + at - 4;
    ASSERT_EQ(get_le(size, 4), noise.size());
    put_le(size, 0xfffffff0u, 4);
    test::write_text(dir / "bad.raw", bytes);
    try {
        read_image(dir / "bad.raw");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()),
                  dir / "bad.raw" +
                      ": usr/share/noisy: xattr value of 4294967280 bytes; Linux allows at most "
                      "65536");
    }
    EXPECT_EQ(read_image(dir / "img.raw").entries.back().xattrs.at("user.noise"), noise);
}

TEST(Reader, DirectoryIndexNameLongerThanANameIsRefusedUnread) {
    // Found by fuzzing (this is the fuzzer's input): libsquashfs reads an
    // extended directory's index along with the inode, each name at the size
    // its entry claims, and asked for 2 GiB.
    const std::string image =
        std::filesystem::path(__FILE__).parent_path() / "data/ext-dir-index-name.sqfs";
    try {
        read_image(image);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()),
                  image +
                      ": usr/share/tool/fifo: directory index names a name of 1700000001 bytes");
    }
}

} // namespace sysext::squashfs

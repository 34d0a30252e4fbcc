// Damaged and hostile EROFS images: each is refused with a sysext::Error that
// names the image and what is wrong, never a crash (this runs under
// ASan/UBSan in CI, and tests/fuzz/erofs.cpp fuzzes the same reader). The
// images are made by our writer and then changed where a hostile writer could.
#include "squashfs/test_image.hpp"
#include "sysext/erofs/format.hpp"
#include "sysext/erofs/read_source.hpp"
#include "sysext/erofs/reader.hpp"
#include "sysext/erofs/writer.hpp"
#include "sysext/image/reader.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/endian.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace sysext::erofs {

namespace {

using image::ImageEntry;
using image::ImageListing;
using test::inline_file;

std::string lines(int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
        s += "line " + std::to_string(i) + "\n";
    return s;
}

// An image with a directory of a few entries, an inline file, a compressed
// file, a plain uncompressed one, a symlink and an xattr.
std::string make_image(const std::string& path, const std::string& compression = "lz4hc") {
    tree::Tree t;
    t.set_default_mtime(0);
    t.add("usr/bin/tool", inline_file("#!/bin/sh\necho hi\n", 0755)).xattrs = {
        {"user.comment", "hello"}};
    t.add("usr/share/big.txt", inline_file(lines(20000)));
    t.add("usr/share/plain", inline_file(std::string(8192, 'p')));
    tree::Node sl;
    sl.type = tree::NodeType::Symlink;
    sl.mode = 0777;
    sl.link_target = "tool";
    t.add("usr/bin/link", std::move(sl));
    t.finalize();
    WriterOptions o;
    o.compression = Compression::parse(compression);
    o.jobs = 1;
    AtomicFile out(path);
    write_image(t, out.fd(), o, null_reporter());
    out.commit();
    return read_file(path, 64 << 20);
}

uint64_t inode_offset(const std::string& img, uint64_t nid) {
    const auto* sb = reinterpret_cast<const uint8_t*>(img.data()) + k_super_offset;
    return get_le(sb + 40, 4) * k_block + nid * k_slot;
}

void put(std::string& img, uint64_t at, uint64_t v, size_t bytes) {
    put_le(reinterpret_cast<uint8_t*>(img.data()) + at, v, bytes);
}

// Makes the superblock's checksum match again after a change to it.
void fix_checksum(std::string& img) {
    put(img, k_super_offset + 4, 0, 4);
    put(img, k_super_offset + 4,
        crc32c(0xFFFFFFFFu, img.data() + k_super_offset, k_block - k_super_offset), 4);
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input) << e.what();
        return e.what();
    }
    return "no error";
}

class ErofsCorrupt : public ::testing::Test {
protected:
    void SetUp() override {
        good = make_image(dir / "good.raw");
        listing = read_image(dir / "good.raw");
    }
    uint64_t nid(const std::string& path) const {
        for (const auto& e : listing.entries)
            if (e.path == path)
                return e.inode;
        throw std::runtime_error(path);
    }
    // Writes `img` and returns what listing it (and reading every file) says.
    std::string listing_error(const std::string& img) {
        test::write_text(bad, img);
        return error_of([&] {
            ImageListing l = read_image(bad);
            for (const auto& e : l.entries)
                if (e.type == 'f')
                    read_image_file(bad, e.path, 1 << 20);
        });
    }

    test::TempDir dir;
    const std::string bad = dir / "bad.raw";
    std::string good;
    ImageListing listing;
};

} // namespace

TEST_F(ErofsCorrupt, SuperblockProblemsAreNamed) {
    std::string img = good;
    img[k_super_offset] = 'X';
    EXPECT_EQ(listing_error(img), bad + ": no EROFS magic at byte 1024");

    img = good;
    img[k_super_offset + 64] = 'v'; // volume name, under the checksum
    const uint32_t stored = static_cast<uint32_t>(
        get_le(reinterpret_cast<const uint8_t*>(good.data()) + k_super_offset + 4, 4));
    std::string msg = listing_error(img);
    EXPECT_EQ(msg.rfind(bad + ": superblock checksum " + hex_number(stored) +
                            " does not match its content (0x",
                        0),
              0u)
        << msg;

    img = good;
    img[k_super_offset + 12] = 9;
    fix_checksum(img);
    EXPECT_EQ(listing_error(img), bad + ": block size 2^9 is not supported (4096 to 65536 bytes)");

    img = good;
    put(img, k_super_offset + 80,
        0x20 | 0x200 | get_le(reinterpret_cast<uint8_t*>(img.data()) + k_super_offset + 80, 4), 4);
    fix_checksum(img);
    EXPECT_EQ(listing_error(img), bad + ": uses EROFS features this reader does not support: "
                                        "fragments or dedupe (0x20), unknown features 0x200");

    img = good;
    put(img, k_super_offset + 80, k_incompat_compr_cfgs | k_incompat_zero_padding, 4);
    put(img, k_super_offset + 84, 0x9, 2); // LZ4 and zstd
    fix_checksum(img);
    EXPECT_EQ(listing_error(img),
              bad + ": compressed with zstd, which this reader does not support (LZ4 only)");

    img = good.substr(0, good.size() - 4096);
    EXPECT_EQ(listing_error(img), bad + ": truncated: the superblock says the image has " +
                                      std::to_string(good.size()) + " bytes, only " +
                                      std::to_string(img.size()) + " are there");
    EXPECT_EQ(listing_error(good.substr(0, 1100)),
              bad + ": too short for an EROFS superblock (1100 bytes)");

    img = good;
    put(img, k_super_offset + 14, 0xFFFF, 2); // root nid
    fix_checksum(img);
    EXPECT_EQ(listing_error(img), bad + ": /: inode nid 65535 lies beyond the image");

    img = good;
    put(img, k_super_offset + 14, nid("usr/bin/tool"), 2);
    fix_checksum(img);
    EXPECT_EQ(listing_error(img), bad + ": the root inode is not a directory");
}

TEST_F(ErofsCorrupt, InodeProblemsAreNamed) {
    const uint64_t tool = inode_offset(good, nid("usr/bin/tool"));
    std::string img = good;
    put(img, tool, 5u << 1, 2); // i_format: layout 5
    EXPECT_EQ(listing_error(img), bad + ": usr/bin/tool: unknown data layout 5");

    img = good;
    put(img, tool, 0x10, 2);
    EXPECT_EQ(listing_error(img), bad + ": usr/bin/tool: inode format 0x10 has unknown bits");

    img = good;
    put(img, tool + 4, 0xF1ED, 2); // i_mode with type 0xF000
    EXPECT_EQ(listing_error(img), bad + ": usr/bin/tool: unknown file type in mode 0xf1ed");

    // Inline data that would cross into the next block.
    img = good;
    put(img, tool + 8, 4090, 4);
    EXPECT_EQ(listing_error(img), bad + ": usr/bin/tool: inline data of 4090 bytes crosses a "
                                        "block boundary");

    // An uncompressed file's blocks beyond the image.
    const std::string none = make_image(dir / "none.raw", "none");
    uint64_t plain_nid = 0;
    for (const auto& e : read_image(dir / "none.raw").entries)
        if (e.path == "usr/share/plain")
            plain_nid = e.inode;
    img = none;
    put(img, inode_offset(none, plain_nid) + 16, 0x7FFFFFF, 4);
    EXPECT_EQ(listing_error(img), bad + ": usr/share/plain: data at block 134217727 (8192 bytes) "
                                        "lies beyond the image");

    const uint64_t link = inode_offset(good, nid("usr/bin/link"));
    img = good;
    put(img, link + 8, 5000, 4);
    EXPECT_EQ(listing_error(img), bad + ": usr/bin/link: symbolic link target of 5000 bytes");

    // xattrs: an unknown name index, an entry running past its area.
    const uint64_t xattrs = tool + k_compact_inode + k_xattr_ibody_header;
    img = good;
    img[xattrs + 1] = 9;
    EXPECT_EQ(listing_error(img), bad + ": usr/bin/tool: xattr name index 9 is unknown");
    img = good;
    put(img, xattrs + 2, 0xFFFF, 2);
    EXPECT_EQ(listing_error(img), bad + ": usr/bin/tool: xattr entry runs past its area");
    img = good;
    img[tool + k_compact_inode + 4] = 100; // shared xattr count
    EXPECT_EQ(listing_error(img),
              bad + ": usr/bin/tool: 100 shared xattrs do not fit the inode's xattr area");
}

TEST_F(ErofsCorrupt, DirectoryLoopsAndBadNidsAreRefused) {
    // The root directory's entries follow its inode (inline): point "usr" at
    // the root itself, then past the image, then break its names.
    const uint64_t root = nid("");
    const uint64_t usr = nid("usr");
    const uint64_t at = inode_offset(good, root) + k_compact_inode;
    size_t dirent = std::string::npos;
    for (size_t i = at; i < at + 4096; i += k_dirent)
        if (get_le(reinterpret_cast<const uint8_t*>(good.data()) + i, 8) == usr) {
            dirent = i;
            break;
        }
    ASSERT_NE(dirent, std::string::npos);
    std::string img = good;
    put(img, dirent, root, 8);
    EXPECT_EQ(listing_error(img), bad + ": usr: directory reached twice (a directory loop)");

    img = good;
    put(img, dirent, 0xFFFFFFFFFFFFull, 8);
    EXPECT_EQ(listing_error(img), bad + ": usr: inode nid 281474976710655 lies beyond the image");

    img = good;
    put(img, at + 8, 3, 2); // the first name offset, inside the first dirent
    EXPECT_EQ(listing_error(img), bad + ": /: directory block 0: first name offset 3 is invalid");

    // usr's entries (inline after its inode) all naming usr/bin: usr/share is
    // then a second way into usr/bin.
    const uint64_t bin = nid("usr/bin");
    const uint64_t usr_at = inode_offset(good, usr) + k_compact_inode;
    img = good;
    const uint64_t names = get_le(reinterpret_cast<const uint8_t*>(good.data()) + usr_at + 8, 2);
    for (uint64_t i = 0; i < names / k_dirent; ++i)
        put(img, usr_at + i * k_dirent, bin, 8);
    EXPECT_EQ(listing_error(img), bad + ": usr/share: directory reached twice (a directory loop)");
}

TEST_F(ErofsCorrupt, CompressedFileProblemsAreNamed) {
    const uint64_t big = inode_offset(good, nid("usr/share/big.txt"));
    const uint64_t header = (big + k_compact_inode + 7) / 8 * 8;
    std::string img = good;
    img[header + 6] = 3; // h_algorithmtype: zstd
    EXPECT_EQ(listing_error(img), bad + ": usr/share/big.txt: compressed with zstd, which this "
                                        "reader does not support (LZ4 only)");
    img = good;
    img[header + 7] = '\x80'; // the whole file in the packed inode
    EXPECT_EQ(listing_error(img), bad + ": usr/share/big.txt: h_clusterbits 0x80 (lclusters other "
                                        "than one block, or fragments) is not supported");
    img = good;
    const uint64_t advise = 0x20 | get_le(reinterpret_cast<uint8_t*>(img.data()) + header + 4, 2);
    put(img, header + 4, advise, 2);
    EXPECT_EQ(listing_error(img), bad + ": usr/share/big.txt: compression advise " +
                                      hex_number(advise) +
                                      " has bits this reader does not support (fragments?)");
    // A huge size: indexes that cannot fit.
    img = good;
    put(img, big + 8, 0xFFFFFFFF, 4);
    std::string msg = listing_error(img);
    EXPECT_NE(msg.find("usr/share/big.txt"), std::string::npos) << msg;
    // The compressed bytes themselves: every byte of the file's first block flipped.
    img = good;
    for (size_t i = 4096; i < 8192; ++i)
        img[i] = static_cast<char>(~img[i]);
    msg = listing_error(img);
    EXPECT_NE(msg.find(": usr/share/big.txt: extent at byte 0: "), std::string::npos) << msg;
}

// Every byte of the metadata flipped in turn, and the image cut at every
// block: a refusal or a listing, never a crash or a hang.
TEST_F(ErofsCorrupt, NoByteFlipCrashes) {
    const uint64_t meta = inode_offset(good, 0);
    for (uint64_t i = k_super_offset; i < good.size(); ++i) {
        if (i >= k_super_offset + 128 && i < meta)
            continue; // file data: the compressed-file test covers it
        std::string img = good;
        img[i] = static_cast<char>(img[i] ^ 0x5A);
        if (i < k_block)
            fix_checksum(img);
        test::write_text(bad, img);
        try {
            ImageListing l = read_image(bad);
            for (const auto& e : l.entries)
                if (e.type == 'f')
                    read_image_file(bad, e.path, 1 << 20);
        } catch (const Error&) {
        }
    }
    for (size_t n = 0; n < good.size(); n += 4096) {
        test::write_text(bad, good.substr(0, n));
        EXPECT_THROW(read_image(bad), Error) << n;
    }
}

} // namespace sysext::erofs

// Golden bytes for the EROFS on-disk structures the writer produces.
#include "sysext/erofs/compress.hpp"
#include "sysext/erofs/dirents.hpp"
#include "sysext/erofs/format.hpp"
#include "sysext/erofs/indexes.hpp"
#include "sysext/erofs/meta_layout.hpp"
#include "sysext/erofs/xattrs.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/sha256.hpp"

#include <gtest/gtest.h>
#include <random>
#include <zstd.h>

namespace sysext::erofs {

TEST(ErofsFormat, Crc32cIsTheKernelsSeededUninvertedForm) {
    // CRC-32C("123456789") is 0xE3069283; the kernel's form omits the final inversion.
    EXPECT_EQ(crc32c(0xFFFFFFFFu, "123456789", 9), ~0xE3069283u);
}

TEST(ErofsFormat, SuperblockFieldsAndChecksum) {
    SuperBlock sb;
    sb.root_nid = 5;
    sb.inodes = 7;
    sb.build_time = 1700000000;
    sb.blocks = 9;
    sb.meta_blkaddr = 3;
    sb.feature_incompat = k_incompat_zero_padding | k_incompat_compr_cfgs;
    sb.lz4_config = true;
    sb.lz4_max_pclusterblks = 16;
    std::string b = encode_block0(sb);
    ASSERT_EQ(b.size(), 4096u);
    EXPECT_EQ(to_hex(b.data() + 1024, 16),
              "e2e1f5e0" + to_hex(b.data() + 1028, 4) + "010000000c000500");
    EXPECT_EQ(to_hex(b.data() + 1024 + 80, 6), "030000000100");
    EXPECT_EQ(to_hex(b.data() + 1024 + 128, 6), "0e0000001000");
    // The checksum is over bytes 1024..4095 with the field itself zero.
    std::string copy = b.substr(1024);
    uint32_t stored = static_cast<uint8_t>(copy[4]) | static_cast<uint8_t>(copy[5]) << 8 |
                      static_cast<uint8_t>(copy[6]) << 16 |
                      static_cast<uint32_t>(static_cast<uint8_t>(copy[7])) << 24;
    copy.replace(4, 4, 4, '\0');
    EXPECT_EQ(stored, crc32c(0xFFFFFFFFu, copy.data(), copy.size()));
    EXPECT_EQ(b.find_first_not_of('\0'), 1024u); // nothing before the superblock
}

TEST(ErofsFormat, ZstdConfigurationFollowsTheSuperblock) {
    SuperBlock sb;
    sb.feature_incompat = k_incompat_zero_padding | k_incompat_compr_cfgs;
    sb.zstd_config = true;
    sb.zstd_window_log = 19;
    std::string b = encode_block0(sb);
    // available_compr_algs: bit 3 alone; then a 6-byte z_erofs_zstd_cfgs
    // (format 0, window log less 10), nothing after it.
    EXPECT_EQ(to_hex(b.data() + 1024 + 84, 2), "0800");
    EXPECT_EQ(to_hex(b.data() + 1024 + 128, 10), "06000009000000000000");
    EXPECT_EQ(b.find_first_not_of('\0', 1024 + 132), std::string::npos);
}

TEST(ErofsFormat, DirentsAreSortedWithNamesAfterThem) {
    std::string d = encode_directory({{"b", 7, k_ft_reg}, {".", 1, k_ft_dir}, {"..", 2, k_ft_dir}});
    ASSERT_EQ(d.size(), 3 * 12 + 4u);
    // ".", "..", "b": nameoff 36, 37, 39.
    EXPECT_EQ(to_hex(d.data(), 12), "010000000000000024000200");
    EXPECT_EQ(to_hex(d.data() + 12, 12), "020000000000000025000200");
    EXPECT_EQ(to_hex(d.data() + 24, 12), "070000000000000027000100");
    EXPECT_EQ(d.substr(36), "...b");
}

TEST(ErofsFormat, DirectoriesSpillIntoFullBlocks) {
    std::vector<DirEntry> entries;
    for (int i = 0; i < 400; ++i)
        entries.push_back(
            {"entry-" + std::to_string(1000 + i), static_cast<uint64_t>(i), k_ft_reg});
    std::string d = encode_directory(entries);
    // 22 bytes per entry: 186 fit in a block.
    ASSERT_EQ(d.size(), 2 * 4096 + 28 * 22u);
    EXPECT_EQ(static_cast<uint8_t>(d[8]) | static_cast<uint8_t>(d[9]) << 8, 186 * 12);
    EXPECT_EQ(d.substr(186 * 12, 10), "entry-1000");
    EXPECT_EQ(d.substr(4096 + 186 * 12, 10), "entry-1186");
}

TEST(ErofsFormat, FullIndexesMarkHeadsNonheadsAndBlockCounts) {
    // A 3-block compressed extent covering 0..10000, then a plain one to 14000.
    std::vector<Extent> ex = {{0, 100, 3, false}, {10000, 103, 1, true}};
    std::string idx = encode_full_indexes(ex, 14000, true);
    ASSERT_EQ(idx.size(), 16 + 4 * 8u);
    EXPECT_EQ(to_hex(idx.data(), 8), "0000000002000000"); // big pcluster advise, lz4, 4K lclusters
    EXPECT_EQ(to_hex(idx.data() + 16, 8), "0100000064000000"); // HEAD1 @0, block 100
    EXPECT_EQ(to_hex(idx.data() + 24, 8), "0200000003080100"); // NONHEAD, CBLKCNT 3, next head 1 on
    EXPECT_EQ(to_hex(idx.data() + 32, 8),
              "0000100767000000"); // PLAIN @ 1808 of lcluster 2, block 103
    EXPECT_EQ(to_hex(idx.data() + 40, 8), "0200100701080100"); // NONHEAD, CBLKCNT 1, end 1 on
}

// FRAGMENTS: a file whose last extent is in the packed inode says where in
// h_fragmentoff with the FRAGMENT_PCLUSTER advise, its head a HEAD1 of no
// blocks; a file all in the packed inode has only bit 63 and the offset.
TEST(ErofsFormat, FragmentsInTheMapHeader) {
    std::vector<Extent> ex = {{0, 100, 1, false}, {5000, 0, 0, false}};
    MapHeader h;
    h.fragment = true;
    h.fragment_off = 0x12345;
    std::string idx = encode_full_indexes(ex, 7000, false, h);
    EXPECT_EQ(to_hex(idx.data(), 8), "4523010020000000"); // h_fragmentoff, advise 0x20, lz4
    EXPECT_EQ(to_hex(idx.data() + 24, 8), "0100880300000000"); // HEAD1 @ 904 of lcluster 1
    const std::string whole = encode_whole_fragment(0x12345);
    EXPECT_EQ(to_hex(whole.data(), whole.size()), "4523010000000080" + std::string(16, '0'));
    h.tail_size = 10;
    EXPECT_THROW(encode_full_indexes(ex, 7000, false, h), Error); // a tail or a fragment
}

TEST(ErofsFormat, CompactIndexesPackTwoLclustersInEightBytes) {
    // The same extents; after a 32-byte inode the first index is 8 bytes into
    // a 32-byte slot, so 4-byte entries run for 6 lclusters (the file has 4).
    std::vector<Extent> ex = {{0, 100, 3, false}, {10000, 103, 1, true}};
    std::string idx = encode_compact_indexes(ex, 14000, 32);
    ASSERT_EQ(idx.size(), 24u);
    EXPECT_EQ(to_hex(idx.data(), 8), "0000000007000000"); // compacted 2B, big pclusters 1 and 2
    // HEAD1 @0 (0x1000), CBLKCNT 3 (0x2803); the pack's block address 100.
    EXPECT_EQ(to_hex(idx.data() + 8, 8), "0010032864000000");
    // PLAIN @1808 (0x0710), CBLKCNT 1 (0x2801); block 103.
    EXPECT_EQ(to_hex(idx.data() + 16, 8), "1007012867000000");
    EXPECT_EQ(compact_indexes_size(14000, 32), 24u);
    // From 6 lclusters on, 16 lclusters take 32 bytes.
    EXPECT_EQ(compact_indexes_size(4096 * 40, 32), 8 + 3 * 8 + 32 * 2 + 1 * 8u);
}

TEST(ErofsFormat, XattrNamesNeedAKnownPrefix) {
    EXPECT_EQ(split_xattr_name("security.capability", "x").first, 6);
    EXPECT_EQ(split_xattr_name("security.capability", "x").second, "capability");
    EXPECT_EQ(split_xattr_name("system.posix_acl_access", "x").first, 2);
    EXPECT_EQ(split_xattr_name("system.posix_acl_access", "x").second, "");
    try {
        split_xattr_name("system.nfs4_acl", "usr/bin/x");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "usr/bin/x: extended attribute \"system.nfs4_acl\" has no prefix EROFS can "
                  "store (user., trusted., security., POSIX ACLs)");
    }
}

TEST(ErofsFormat, SharedXattrsAreThoseOnMoreThanTwoInodes) {
    XattrTable t;
    std::vector<tree::Xattr> common = {{"user.a", "1"}};
    std::vector<tree::Xattr> rare = {{"user.b", "2"}};
    for (int i = 0; i < 3; ++i)
        t.count(common, "x");
    t.count(rare, "y");
    t.finish();
    EXPECT_EQ(t.shared_area(), encode_xattr_entry("user.a", "1"));
    EXPECT_EQ(t.ibody_size(common), 12 + 4u);
    EXPECT_EQ(t.ibody_size(rare), 12 + 8u);
    std::string body = t.ibody(common);
    EXPECT_EQ(to_hex(body.data(), body.size()), "000000000100000000000000"
                                                "00000000");
}

TEST(ErofsFormat, MetaLayoutKeepsSmallRecordsInsideOneBlock) {
    MetaLayout m;
    EXPECT_EQ(m.place(64), 0u);
    EXPECT_EQ(m.place(4064), 4096u);           // does not fit behind the first record
    EXPECT_EQ(m.place(20), 4096u + 4064u);     // best fit: the block with least room left
    EXPECT_EQ(m.place(10000), 2 * 4096u);      // larger than a block: new blocks
    EXPECT_EQ(m.place(96), 4 * 4096u + 1824u); // behind it, not in block 0 with more room
    EXPECT_EQ(m.place(4000), 64u);
    EXPECT_EQ(m.blocks(), 5u);
}

TEST(ErofsFormat, CompressionSettings) {
    EXPECT_EQ(Compression::parse("lz4hc").to_string(), "lz4hc:12");
    EXPECT_EQ(Compression::parse("lz4hc:9").level, 9);
    EXPECT_EQ(Compression::parse("none").enabled(), false);
    EXPECT_EQ(Compression::parse("zstd").to_string(), "zstd:15");
    EXPECT_EQ(Compression::parse("zstd:22").format_id(), k_algorithm_zstd);
    EXPECT_EQ(Compression::parse("lz4").format_id(), k_algorithm_lz4);
    EXPECT_EQ(Compression::parse("lzma").to_string(), "lzma:6");
    EXPECT_EQ(Compression::parse("lzma:0").format_id(), k_algorithm_lzma);
    EXPECT_THROW(Compression::parse("lzma:10"), Error);
    EXPECT_EQ(lzma_dict_size(65536), 512u * 1024);
    EXPECT_EQ(lzma_dict_size(4096), 32u * 1024);
    EXPECT_THROW(Compression::parse("zstd:23"), Error);
    EXPECT_THROW(Compression::parse("xz"), Error);
    EXPECT_THROW(Compression::parse("lz4hc:13"), Error);
    EXPECT_EQ(zstd_window_log(4096), 15u);
    EXPECT_EQ(zstd_window_log(65536), 19u);
    EXPECT_EQ(zstd_window_log(512 * 1024), 20u); // the kernel's most
    EXPECT_THROW(check_pcluster_size(6000, "--erofs-pcluster"), Error);
    EXPECT_EQ(check_pcluster_size(65536, "--erofs-pcluster"), 65536u);
}

TEST(ErofsFormat, ExtentsSaveABlockOrAreStoredPlain) {
    std::string text;
    for (int i = 0; i < 30000; ++i)
        text += "row " + std::to_string(i % 97) + "\n";
    Compression c;
    auto ex =
        compress_segment(c, 65536, reinterpret_cast<const uint8_t*>(text.data()), text.size());
    uint64_t total = 0;
    for (const auto& e : ex) {
        total += e.length;
        ASSERT_EQ(e.blocks.size() % 4096, 0u);
        if (!e.plain)
            EXPECT_LT(e.blocks.size(), e.length);
        else
            EXPECT_LE(e.length, 4096u);
    }
    EXPECT_EQ(total, text.size());
    EXPECT_FALSE(ex.front().plain);
}

// Each zstd extent is one frame behind zeros that fills most of its
// pcluster and decompresses to exactly its input; random data stays plain.
// (LZMA extents are checked by the segment cache's reader, below, and by the
// kernel in e2e.erofs_pack.)
TEST(ErofsFormat, ZstdExtentsAreFramesThatFitTheirPcluster) {
    std::string data;
    std::mt19937 rng(7);
    for (int i = 0; i < 200000; ++i)
        data += "line " + std::to_string(rng() % 5000) + "\n";
    const size_t text = data.size();
    for (int i = 0; i < 20000; ++i)
        data.push_back(static_cast<char>(rng()));
    for (uint32_t pcluster : {4096u, 65536u}) {
        const Compression c = Compression::parse("zstd:9");
        auto ex = compress_segment(c, pcluster, reinterpret_cast<const uint8_t*>(data.data()),
                                   data.size());
        size_t pos = 0, compressed = 0, full = 0;
        for (const auto& e : ex) {
            ASSERT_EQ(e.blocks.size() % 4096, 0u);
            if (!e.plain) {
                ASSERT_LE(e.blocks.size(), pcluster);
                const size_t start = e.blocks.find_first_not_of('\0');
                ASSERT_LT(start, 4096u);
                std::string out(e.length, '\0');
                ASSERT_EQ(ZSTD_decompress(out.data(), out.size(), e.blocks.data() + start,
                                          e.blocks.size() - start),
                          e.length);
                ASSERT_EQ(out, data.substr(pos, e.length));
                ++compressed;
                // The search takes as much input as nearly fills the pcluster.
                if ((e.blocks.size() - start) * 4 >= pcluster * 3)
                    ++full;
            } else {
                EXPECT_GE(pos + 4096, text) << "text stored plain at " << pos;
            }
            pos += e.length;
        }
        EXPECT_EQ(pos, data.size());
        EXPECT_GT(compressed, 0u);
        EXPECT_GE(full + 2, compressed) << "pcluster " << pcluster;
    }
}

} // namespace sysext::erofs

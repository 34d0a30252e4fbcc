#include "sysext/util/error.hpp"
#include "sysext/verity/superblock.hpp"

#include <gtest/gtest.h>

namespace sysext::verity {

TEST(VeritySuperblock, FieldOffsetsFollowCryptsetup) {
    Superblock sb;
    sb.uuid[0] = 0xaa;
    sb.data_blocks = 0x0102030405;
    sb.salt = "\x11\x22\x33";
    auto raw = encode_superblock(sb);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(raw.data()), 8),
              std::string("verity\0\0", 8));
    EXPECT_EQ(raw[8], 1);  // version
    EXPECT_EQ(raw[12], 1); // hash type
    EXPECT_EQ(raw[16], 0xaa);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(raw.data() + 32)), "sha256");
    EXPECT_EQ(raw[64 + 1], 0x10); // 4096 little-endian
    EXPECT_EQ(raw[68 + 1], 0x10);
    EXPECT_EQ(raw[72], 0x05);
    EXPECT_EQ(raw[76], 0x01);
    EXPECT_EQ(raw[80], 3); // salt size
    EXPECT_EQ(raw[88], 0x11);
    EXPECT_EQ(raw[90], 0x33);
}

TEST(VeritySuperblock, RoundTripsAndRejectsDamage) {
    Superblock sb;
    sb.data_blocks = 171;
    sb.salt = std::string(32, 'x');
    auto raw = encode_superblock(sb);
    Superblock back = decode_superblock(raw.data(), "t");
    EXPECT_EQ(back.data_blocks, 171u);
    EXPECT_EQ(back.salt, sb.salt);

    auto bad_magic = raw;
    bad_magic[0] = 'V';
    EXPECT_THROW(decode_superblock(bad_magic.data(), "t"), Error);
    auto bad_pad = raw;
    bad_pad[500] = 1;
    try {
        decode_superblock(bad_pad.data(), "demo.verity");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "demo.verity: dm-verity superblock has non-zero padding");
    }
}

} // namespace sysext::verity

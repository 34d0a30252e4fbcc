#include "sysext/squashfs/compression.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

namespace sysext::squashfs {

TEST(Compression, ParsesNamesAndLevels) {
    EXPECT_EQ(Compression::parse("zstd"), (Compression{Algorithm::Zstd, 15}));
    EXPECT_EQ(Compression::parse("zstd:22"), (Compression{Algorithm::Zstd, 22}));
    EXPECT_EQ(Compression::parse("xz"), (Compression{Algorithm::Xz, 6}));
    EXPECT_EQ(Compression::parse("gzip:1"), (Compression{Algorithm::Gzip, 1}));
    EXPECT_EQ(Compression::parse("lz4"), (Compression{Algorithm::Lz4, 0}));
    EXPECT_EQ(Compression::parse("lz4:hc"), (Compression{Algorithm::Lz4, 1}));
    EXPECT_EQ(Compression::parse("zstd:3").to_string(), "zstd:3");
}

TEST(Compression, RejectsBadInputWithRange) {
    try {
        Compression::parse("zstd:99");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "--compression: zstd level \"99\" is out of range (1..22)");
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
    }
    EXPECT_THROW(Compression::parse("zstd:"), Error);
    EXPECT_THROW(Compression::parse("zstd:-1"), Error);
    EXPECT_THROW(Compression::parse("gzip:0"), Error);
    EXPECT_THROW(Compression::parse("lz4:9"), Error);
    EXPECT_THROW(Compression::parse("lzo"), Error);
}

TEST(Compression, BlockSizes) {
    EXPECT_EQ(check_block_size(4096), 4096u);
    EXPECT_EQ(check_block_size(1 << 20), 1u << 20);
    EXPECT_THROW(check_block_size(2048), Error);
    EXPECT_THROW(check_block_size(3 << 16), Error);
    EXPECT_THROW(check_block_size(2 << 20), Error);
}

} // namespace sysext::squashfs

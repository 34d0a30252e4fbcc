#include "payload/bzip2.hpp"
#include "payload/test_support.hpp"

#include <gtest/gtest.h>

namespace sysext::payload {

namespace {

std::string decode(std::string_view data, size_t piece) {
    Bzip2Decoder decoder;
    std::string out;
    for (size_t i = 0; i < data.size(); i += piece)
        decoder.feed(data.data() + i, std::min(piece, data.size() - i),
                     [&](const char* p, size_t n) { out.append(p, n); });
    decoder.finish();
    return out;
}

} // namespace

TEST(Bzip2, CompressibleDataRoundTripsInAnyPieces) {
    std::string text;
    for (int i = 0; i < 50000; ++i)
        text += "line " + std::to_string(i % 97) + "\n";
    std::string packed;
    ASSERT_TRUE(bzip2_compress_if_smaller(text, packed));
    EXPECT_LT(packed.size(), text.size() / 10);
    EXPECT_EQ(packed.substr(0, 4), "BZh9"); // block size 9, as update_engine makes it
    EXPECT_EQ(decode(packed, packed.size()), text);
    EXPECT_EQ(decode(packed, 1), text);
    EXPECT_EQ(decode(packed, 777), text);
}

TEST(Bzip2, IncompressibleDataIsLeftRaw) {
    std::string noise = sysext::testing::make_image_bytes(65536, 3).substr(0, 65536);
    std::string packed;
    EXPECT_FALSE(bzip2_compress_if_smaller(noise, packed));
}

TEST(Bzip2, CorruptTruncatedAndTrailingDataFail) {
    std::string text(200000, 'a');
    std::string packed;
    ASSERT_TRUE(bzip2_compress_if_smaller(text, packed));

    EXPECT_THROW(decode(packed.substr(0, packed.size() - 5), 100), Bzip2Error);
    EXPECT_THROW(decode(packed + "x", 100), Bzip2Error);
    std::string bad = packed;
    bad[0] = 'X';
    EXPECT_THROW(decode(bad, 100), Bzip2Error);
    bad = packed;
    bad[bad.size() / 2] ^= 0x55;
    EXPECT_THROW(decode(bad, 100), Bzip2Error);
}

} // namespace sysext::payload

// The segment cache: hits give the very extents compression gives, and an
// entry that is whole but wrong is never used.
#include "sysext/erofs/segment_cache.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

namespace sysext::erofs {

namespace {

std::string text(int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
        s += "entry " + std::to_string(i * 7919 % 100003) + "\n";
    return s;
}

const uint8_t* bytes(const std::string& s) {
    return reinterpret_cast<const uint8_t*>(s.data());
}

bool same(const std::vector<ExtentData>& a, const std::vector<ExtentData>& b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].length != b[i].length || a[i].plain != b[i].plain || a[i].tail != b[i].tail ||
            a[i].blocks != b[i].blocks)
            return false;
    return true;
}

} // namespace

TEST(ErofsSegmentCache, ASecondLookupHitsAndGivesTheSameExtents) {
    test::TempDir dir;
    BlockCache cache(dir / "cache");
    Compression c;
    SegmentCache segments(&cache, c, 65536);
    const std::string data = text(60000) + std::string(5000, 'z');
    const auto fresh = compress_segment(c, 65536, bytes(data), data.size(), 4000);
    EXPECT_TRUE(same(segments.extents(bytes(data), data.size(), 4000), fresh));
    EXPECT_EQ(cache.counters().stored, 1u);
    EXPECT_TRUE(same(segments.extents(bytes(data), data.size(), 4000), fresh));
    EXPECT_EQ(cache.counters().hits, 1u);
    // The room for a tail is part of the key.
    segments.extents(bytes(data), data.size(), 0);
    EXPECT_EQ(cache.counters().hits, 1u);
}

TEST(ErofsSegmentCache, EntriesThatAreNotTheSegmentsExtentsAreRefused) {
    Compression c;
    const std::string data = text(60000);
    const auto extents = compress_segment(c, 65536, bytes(data), data.size(), 4000);
    ASSERT_GT(extents.size(), 1u);
    const std::string good = serialize_extents(extents);
    ASSERT_TRUE(parse_extents(good, bytes(data), data.size(), 65536, c));
    // Other input, a flipped byte of compressed data, a cut value, extra bytes.
    std::string other = data;
    other[100] ^= 1;
    EXPECT_FALSE(parse_extents(good, bytes(other), other.size(), 65536, c));
    std::string flipped = good;
    flipped[flipped.size() - 10] ^= 0x55;
    EXPECT_FALSE(parse_extents(flipped, bytes(data), data.size(), 65536, c));
    EXPECT_FALSE(parse_extents(good.substr(0, good.size() - 1), bytes(data), data.size(), 65536, c));
    EXPECT_FALSE(parse_extents(good + "x", bytes(data), data.size(), 65536, c));
    // Extents that decompress right but would not be stored so (a tail first).
    auto reordered = extents;
    reordered.front().tail = true;
    EXPECT_FALSE(parse_extents(serialize_extents(reordered), bytes(data), data.size(), 65536, c));
}

// zstd and LZMA extents are checked as zstd frames and MicroLZMA streams:
// the same entry read as LZ4 (or the other) is refused.
TEST(ErofsSegmentCache, ZstdAndLzmaEntriesAreCheckedInTheirFormat) {
  for (const char* spec : {"zstd:5", "lzma:3"}) {
    test::TempDir dir;
    BlockCache cache(dir / "cache");
    const Compression c = Compression::parse(spec);
    const Compression other = Compression::parse(spec[1] == 's' ? "lzma:3" : "zstd:5");
    const std::string data = text(60000);
    const auto extents = compress_segment(c, 65536, bytes(data), data.size(), 4000);
    const std::string good = serialize_extents(extents);
    EXPECT_TRUE(parse_extents(good, bytes(data), data.size(), 65536, c));
    EXPECT_FALSE(parse_extents(good, bytes(data), data.size(), 65536, Compression{}));
    EXPECT_FALSE(parse_extents(good, bytes(data), data.size(), 65536, other));
    for (const auto& e : extents)
        EXPECT_TRUE(e.plain || e.blocks.size() < e.length) << spec;
    SegmentCache segments(&cache, c, 65536);
    EXPECT_TRUE(same(segments.extents(bytes(data), data.size(), 4000), extents));
    EXPECT_TRUE(same(segments.extents(bytes(data), data.size(), 4000), extents));
    EXPECT_EQ(cache.counters().hits, 1u);
  }
}

} // namespace sysext::erofs

#include "sysext/publish/index.hpp"

#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

namespace sysext::publish {

namespace {
const std::string k_a(64, 'a');
const std::string k_b(64, 'b');

std::string parse_error(const std::string& text) {
    try {
        parse_sha256sums(text, "SUMS");
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        return e.what();
    }
    return "";
}
} // namespace

TEST(IndexSums, ParsesTextAndBinaryLines) {
    auto m = parse_sha256sums(k_a + "  one.raw\n" + k_b + " *two.raw\n\n", "SUMS");
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m.at("one.raw"), k_a);
    EXPECT_EQ(m.at("two.raw"), k_b);
}

TEST(IndexSums, RefusesWhatIsNotALine) {
    EXPECT_EQ(parse_error(k_a + "  ../etc/passwd\n"),
              "SUMS:1: not a SHA256SUMS line (\"" + k_a + "  ../etc/passwd\")");
    EXPECT_NE(parse_error(k_a + "  .hidden\n"), "");
    EXPECT_NE(parse_error(k_a + "  two words\n"), "");
    EXPECT_NE(parse_error(std::string(64, 'A') + "  upper.raw\n"), "");
    EXPECT_EQ(parse_error(k_a + "  x.raw\n" + k_b + "  x.raw\n"),
              "SUMS:2: x.raw listed twice with different hashes");
}

} // namespace sysext::publish

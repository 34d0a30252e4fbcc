#include "sysext/util/error.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"

#include <gtest/gtest.h>

namespace sysext {

TEST(ParseSize, Suffixes) {
    EXPECT_EQ(parse_size("4096", "--block-size"), 4096u);
    EXPECT_EQ(parse_size("128K", "--block-size"), 131072u);
    EXPECT_EQ(parse_size("1M", "--block-size"), 1048576u);
    EXPECT_EQ(parse_size("2G", "x"), 2147483648u);
}

TEST(ParseSize, RejectsGarbage) {
    EXPECT_THROW(parse_size("", "x"), Error);
    EXPECT_THROW(parse_size("K", "x"), Error);
    EXPECT_THROW(parse_size("12Q", "x"), Error);
    EXPECT_THROW(parse_size("99999999999999999999", "x"), Error);
    try {
        parse_size("12Q", "--block-size");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "--block-size: not a size: \"12Q\"");
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
    }
}

TEST(Nearest, SuggestsCloseWords) {
    std::vector<std::string> keys{"compression", "components", "name"};
    EXPECT_EQ(nearest("compresion", keys), "compression");
    EXPECT_EQ(nearest("nmae", keys), "name");
    EXPECT_EQ(nearest("zzzzzzzz", keys), "");
}

TEST(Quote, EscapesControlCharacters) {
    EXPECT_EQ(quote("a\nb\"c"), "\"a\\x0ab\\\"c\"");
}

TEST(Quote, UntrustedTextKeepsOnlyPrintableAscii) {
    // quote passes UTF-8 through; text from a damaged image may not be UTF-8.
    EXPECT_EQ(quote("caf\xc3\xa9\x7f"), "\"caf\xc3\xa9\\x7f\"");
    EXPECT_EQ(quote_untrusted("caf\xc3\xa9\x7f\\\t"), "\"caf\\xc3\\xa9\\x7f\\\\\\x09\"");
}

TEST(Sha256, KnownVector) {
    EXPECT_EQ(to_hex(sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(from_hex("00ff41"), std::string("\x00\xff" "A", 3));
    EXPECT_THROW(from_hex("0g"), Error);
}

} // namespace sysext

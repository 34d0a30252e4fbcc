#include "sysext/source/version.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <sys/wait.h>

namespace sysext::source {

namespace {
int sign(int x) {
    return (x > 0) - (x < 0);
}
int cmp(const char* a, const char* b) {
    return sign(compare_versions(a, b));
}
} // namespace

TEST(DebianVersion, ParsesEpochUpstreamRevision) {
    auto v = DebianVersion::parse("1:5.4.2+ds1-1~deb13u1");
    EXPECT_EQ(v.epoch, 1u);
    EXPECT_EQ(v.upstream, "5.4.2+ds1");
    EXPECT_EQ(v.revision, "1~deb13u1");
    EXPECT_EQ(v.str(), "1:5.4.2+ds1-1~deb13u1");

    // The revision is after the last hyphen; earlier hyphens belong upstream.
    v = DebianVersion::parse("0.0~git20250503.587980c-2-3");
    EXPECT_EQ(v.upstream, "0.0~git20250503.587980c-2");
    EXPECT_EQ(v.revision, "3");
    EXPECT_EQ(DebianVersion::parse(" 2.0 ").str(), "2.0");
}

TEST(DebianVersion, RejectsBadSyntax) {
    const char* bad[] = {"",   "a1.0",  "1.0-",  ":1.0",    "x:1.0",
                         "1:", "1.0 2", "1.0_1", "1.0-a_b", "99999999999:1"};
    for (const char* text : bad)
        EXPECT_THROW(DebianVersion::parse(text), Error) << text;
    try {
        DebianVersion::parse("1.0-");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "bad version \"1.0-\": revision is empty");
        EXPECT_EQ(e.kind(), ErrorKind::Input);
    }
}

// The cases dpkg's own test suite and Debian Policy single out.
TEST(CompareVersions, TrickyCases) {
    EXPECT_EQ(cmp("1.0", "1.0"), 0);
    EXPECT_EQ(cmp("0:1.0", "1.0"), 0);
    EXPECT_EQ(cmp("1.0", "1.0-0"), 0);
    EXPECT_EQ(cmp("1.00", "1.0"), 0);
    EXPECT_EQ(cmp("1:0.1", "0:9.9"), 1);
    EXPECT_EQ(cmp("1.0~rc1", "1.0"), -1);
    EXPECT_EQ(cmp("1.0~", "1.0"), -1);
    EXPECT_EQ(cmp("1.0~~", "1.0~"), -1);
    EXPECT_EQ(cmp("1.0~~a", "1.0~"), -1);
    EXPECT_EQ(cmp("1.0~~", "1.0~~a"), -1);
    EXPECT_EQ(cmp("1.0a", "1.0"), 1);
    EXPECT_EQ(cmp("1.0+", "1.0a"), 1); // non-letters sort after letters
    EXPECT_EQ(cmp("1.0.", "1.0+"), 1); // '.' > '+' in ASCII
    EXPECT_EQ(cmp("1.0.0", "1.0"), 1);
    EXPECT_EQ(cmp("1.10", "1.9"), 1);
    EXPECT_EQ(cmp("2.36-9+deb12u4", "2.36-9"), 1);
    EXPECT_EQ(cmp("1.2.3~rc1-1", "1.2.3-1"), -1);
    EXPECT_EQ(cmp("5.4.2+ds1-1", "5.4.2-1"), 1);
    EXPECT_EQ(cmp("0.0~git20250503.587980c-2", "0.0~git20240906.6bbf1bd-1"), 1);
    EXPECT_EQ(cmp("1.0-1", "1.0-1~bpo1"), 1);
    EXPECT_EQ(cmp("123456789012345678901234567890", "123456789012345678901234567889"), 1);
}

// Compares random versions (built to share prefixes, so the tie-breaking rules
// matter) with `dpkg --compare-versions`, the reference implementation.
TEST(CompareVersions, AgreesWithDpkg) {
    if (std::system("command -v dpkg >/dev/null 2>&1") != 0)
        GTEST_FAIL() << "dpkg is missing (tools/setup installs it)";
    std::mt19937 rng(20251128);
    auto pick = [&](const char* alphabet) {
        std::string a(alphabet);
        return a[std::uniform_int_distribution<size_t>(0, a.size() - 1)(rng)];
    };
    auto random_part = [&](const char* alphabet, size_t max_len) {
        std::string s;
        size_t n = std::uniform_int_distribution<size_t>(0, max_len)(rng);
        for (size_t i = 0; i < n; ++i)
            s += pick(alphabet);
        return s;
    };
    auto random_version = [&]() {
        std::string v;
        if (rng() % 4 == 0)
            v += std::to_string(rng() % 3) + ":";
        v += pick("0123456789");
        v += random_part("0019.+~ab", 5);
        if (rng() % 2 == 0)
            v += "-" + std::string(1, pick("01a")) + random_part("019.+~a", 3);
        return v;
    };
    auto dpkg_true = [](const std::string& a, const char* op, const std::string& b) {
        std::string cmd = "dpkg --compare-versions '" + a + "' " + op + " '" + b + "' 2>/dev/null";
        int status = std::system(cmd.c_str());
        EXPECT_TRUE(WIFEXITED(status)) << cmd;
        return WEXITSTATUS(status) == 0;
    };
    for (int i = 0; i < 150; ++i) {
        std::string a = random_version();
        // Half the time b is a small edit of a.
        std::string b = a;
        if (rng() % 2 == 0) {
            b += pick("~+.a1");
            if (rng() % 2 == 0)
                b = a.substr(0, a.size() - 1) + pick("0~a.+9");
            if (!b.empty() && b.back() == '-')
                b += "1";
        } else {
            b = random_version();
        }
        DebianVersion va;
        DebianVersion vb;
        try {
            va = DebianVersion::parse(a);
            vb = DebianVersion::parse(b);
        } catch (const Error&) {
            continue; // an edit may make a version invalid; dpkg would only warn
        }
        int ours = sign(compare_versions(va, vb));
        int theirs = dpkg_true(a, "lt", b) ? -1 : dpkg_true(a, "eq", b) ? 0 : 1;
        EXPECT_EQ(ours, theirs) << a << " vs " << b;
    }
}

TEST(Relations, Satisfies) {
    auto v = DebianVersion::parse("2.36-9");
    EXPECT_TRUE(satisfies(v, parse_relation(">="), DebianVersion::parse("2.36")));
    EXPECT_FALSE(satisfies(v, parse_relation(">>"), DebianVersion::parse("2.36-9")));
    EXPECT_TRUE(satisfies(v, parse_relation("<<"), DebianVersion::parse("2.36-10")));
    EXPECT_TRUE(satisfies(v, parse_relation("="), DebianVersion::parse("0:2.36-9")));
    EXPECT_THROW(parse_relation("=>"), Error);
}

TEST(VersionPattern, MatchesOnUpstreamPart) {
    auto m = [](const char* pattern, const char* version) {
        return VersionPattern::parse(pattern).matches(DebianVersion::parse(version));
    };
    EXPECT_TRUE(m("5.x", "5.4.2+ds1-1"));
    EXPECT_TRUE(m("5.x", "1:5.0-2"));
    EXPECT_FALSE(m("5.x", "4.9.3-1"));
    EXPECT_FALSE(m("5.x", "50.1-1"));
    EXPECT_TRUE(m("5.4.x", "5.4.2+ds1-1"));
    EXPECT_FALSE(m("5.4.x", "5.40.1-1"));
    EXPECT_TRUE(m("5.4.2", "5.4.2+ds1-1"));
    EXPECT_FALSE(m("5.4.2", "5.4.20-1"));
    EXPECT_FALSE(m("5.4.2", "5.4.2.1-1"));
    EXPECT_FALSE(m("5.4", "5.4.2-1"));
    EXPECT_TRUE(m("latest", "0.0~git20250503.587980c-2"));
    EXPECT_TRUE(m("0.x", "0.0~git20250503.587980c-2"));
    // Exact versions: the revision and epoch count only when written.
    EXPECT_TRUE(m("5.4.2+ds1", "5.4.2+ds1-3"));
    EXPECT_TRUE(m("5.4.2+ds1-3", "5.4.2+ds1-3"));
    EXPECT_FALSE(m("5.4.2+ds1-3", "5.4.2+ds1-4"));
    EXPECT_FALSE(m("2:5.4.2+ds1", "1:5.4.2+ds1-4"));
}

TEST(VersionPattern, RejectsNonsense) {
    const char* bad[] = {"", "x.5", "5.x.1", "5..1", "5.", "foo", "5.4.2 1"};
    for (const char* text : bad)
        EXPECT_THROW(VersionPattern::parse(text), Error) << text;
    try {
        VersionPattern::parse("5.x.1");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        EXPECT_STREQ(e.what(), "bad version pattern \"5.x.1\" (use latest, 5.x, 5.4.x, 5.4.2 or an "
                               "exact Debian version)");
    }
}

TEST(VersionPattern, PicksHighestMatch) {
    std::vector<DebianVersion> vs;
    for (const char* t : {"4.9.4-1", "5.4.2+ds1-1", "5.4.2~rc1-1", "5.3.1-2", "5.4.1-1", "6.0-1"})
        vs.push_back(DebianVersion::parse(t));
    EXPECT_EQ(vs[*pick_highest(vs, VersionPattern::parse("5.x"))].str(), "5.4.2+ds1-1");
    EXPECT_EQ(vs[*pick_highest(vs, VersionPattern::parse("5.3.x"))].str(), "5.3.1-2");
    EXPECT_EQ(vs[*pick_highest(vs, VersionPattern::latest())].str(), "6.0-1");
    EXPECT_FALSE(pick_highest(vs, VersionPattern::parse("7.x")).has_value());
}

} // namespace sysext::source

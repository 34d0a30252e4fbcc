#include "sysext/source/debian_apt.hpp"
#include "sysext/source/debian_control.hpp"
#include "sysext/source/debian_release.hpp"
#include "sysext/util/error.hpp"

#include "source/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sysext::source {

namespace {
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}
} // namespace

TEST(Deb822, ParagraphsFieldsAndContinuations) {
    const std::string text = "# a comment\n"
                             "Package: podman\n"
                             "version: 5.4.2+ds1-1\n"
                             "Description: tool\n"
                             " more text\n"
                             " .\n"
                             " last\n"
                             "\n\n"
                             "Package: crun\n"
                             "Depends: libc6 (>= 2.38),\n"
                             " libyajl2 (>= 2.0.4)\n";
    auto ps = parse_paragraphs(text, "Packages");
    ASSERT_EQ(ps.size(), 2u);
    EXPECT_EQ(ps[0].line, 2u);
    EXPECT_EQ(ps[0].get("Version"), "5.4.2+ds1-1"); // names are case-insensitive
    auto lines = ps[0].find("description")->lines();
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "tool");
    EXPECT_EQ(lines[2], ".");
    EXPECT_EQ(ps[1].line, 10u);
    EXPECT_EQ(ps[1].get("Depends"), "libc6 (>= 2.38), libyajl2 (>= 2.0.4)");
    EXPECT_EQ(ps[1].get("Missing"), "");
}

TEST(Deb822, ErrorsNameTheLine) {
    EXPECT_EQ(error_of([] { parse_paragraphs("Package: a\nno colon here\n", "idx"); }),
              "idx:2: not a field: \"no colon here\"");
    EXPECT_EQ(error_of([] { parse_paragraphs(" stray\n", "idx"); }),
              "idx:1: continuation line outside a field");
}

TEST(Relations, ParsesGroupsAlternativesAndQualifiers) {
    auto groups = parse_relations("libc6 (>= 2.38), default-dbus | dbus-x11:any, "
                                  "foo [amd64] <!nocheck>, bar (<< 2:1.0~)",
                                  "x");
    ASSERT_EQ(groups.size(), 4u);
    EXPECT_EQ(groups[0][0].name, "libc6");
    EXPECT_EQ(groups[0][0].relation, Relation::GreaterEqual);
    EXPECT_EQ(groups[0][0].version->str(), "2.38");
    ASSERT_EQ(groups[1].size(), 2u);
    EXPECT_EQ(groups[1][1].name, "dbus-x11");
    EXPECT_EQ(groups[2][0].name, "foo");
    EXPECT_EQ(group_str(groups[3]), "bar (<< 2:1.0~)");
    EXPECT_EQ(error_of([] { parse_relations("a (>= )", "pkg"); }),
              "pkg: bad relation \"a (>= )\": bad version \"\": empty");
    EXPECT_EQ(error_of([] { parse_relations("a (>= 1", "pkg"); }),
              "pkg: bad relation \"a (>= 1\": missing ')'");
}

TEST(AptSources, OneLineAndDeb822) {
    auto one = parse_sources_list(
        "# comment\n"
        "deb-src http://127.0.0.1/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://127.0.0.1:8080/debian/ trixie main contrib\n",
        "sources.list");
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].uri, "http://127.0.0.1:8080/debian");
    EXPECT_EQ(one[0].suites, std::vector<std::string>{"trixie"});
    EXPECT_EQ(one[0].components, (std::vector<std::string>{"main", "contrib"}));
    EXPECT_EQ(one[0].origin, "sources.list:3");

    auto multi =
        parse_deb822_sources("Types: deb deb-src\n"
                             "# comment between fields\n"
                             "URIs: http://127.0.0.1/debian\n"
                             "Suites: trixie trixie-updates\n"
                             "Components: main\n"
                             "\n"
                             "Types: deb\nURIs: http://127.0.0.2/x\nSuites: s\nEnabled: no\n"
                             "\n"
                             "Types: deb-src\nURIs: http://127.0.0.3/x\nSuites: s\n",
                             "debian.sources");
    ASSERT_EQ(multi.size(), 1u);
    EXPECT_EQ(multi[0].suites, (std::vector<std::string>{"trixie", "trixie-updates"}));
    EXPECT_EQ(multi[0].origin, "debian.sources:1");
}

TEST(AptSources, ReadsARootInAptOrder) {
    test::TempDir root;
    root.write("etc/apt/sources.list.d/b.sources",
               "Types: deb\nURIs: http://127.0.0.1/b\nSuites: bsuite\nComponents: main\n");
    root.write("etc/apt/sources.list.d/a.list", "deb http://127.0.0.1/a asuite main\n");
    root.write("etc/apt/sources.list.d/c.list.disabled", "deb http://127.0.0.1/c csuite main\n");
    auto sources = read_apt_sources(root.path());
    ASSERT_EQ(sources.size(), 2u);
    EXPECT_EQ(sources[0].uri, "http://127.0.0.1/a");
    EXPECT_EQ(sources[1].uri, "http://127.0.0.1/b");
}

TEST(AptSources, ChoosesMirrorAndSuite) {
    std::vector<AptSource> sources{
        {"http://127.0.0.1/debian", {"bookworm", "bookworm-updates"}, {"main"}, "a:1"},
        {"http://127.0.0.1/security", {"bookworm-security"}, {"main"}, "a:7"}};
    auto c = choose_mirror("", "", sources);
    EXPECT_EQ(c.mirror, "http://127.0.0.1/debian");
    EXPECT_EQ(c.suite, "bookworm");
    c = choose_mirror("", "bookworm-security", sources);
    EXPECT_EQ(c.mirror, "http://127.0.0.1/security");
    // Another release from the host's mirror.
    c = choose_mirror("", "trixie", sources);
    EXPECT_EQ(c.mirror, "http://127.0.0.1/debian");
    EXPECT_EQ(c.suite, "trixie");
    c = choose_mirror("http://127.0.0.1:9/d/", "sid", sources);
    EXPECT_EQ(c.mirror, "http://127.0.0.1:9/d");
    EXPECT_EQ(c.origin, "command line");
    EXPECT_EQ(error_of([] { choose_mirror("", "", {}); }),
              "no Debian mirror in the apt sources: give --mirror URL");
}

TEST(Release, ParsesHashes) {
    auto r =
        parse_release("Origin: Test\nSuite: stable\nCodename: trixie\nArchitectures: amd64 arm64\n"
                      "Components: main\nAcquire-By-Hash: yes\nSHA256:\n"
                      " " +
                          std::string(64, 'a') +
                          " 1234 main/binary-amd64/Packages.xz\n"
                          " " +
                          std::string(64, 'b') + "   99 main/binary-amd64/Packages\n",
                      "InRelease");
    EXPECT_EQ(r.codename, "trixie");
    EXPECT_TRUE(r.acquire_by_hash);
    EXPECT_EQ(r.architectures, (std::vector<std::string>{"amd64", "arm64"}));
    ASSERT_EQ(r.sha256.size(), 2u);
    EXPECT_EQ(r.sha256.at("main/binary-amd64/Packages.xz").size, 1234u);
    EXPECT_EQ(error_of([] { parse_release("Suite: x\nSHA256:\n abc 12 f\n", "IR"); }),
              "IR:3: bad SHA256 entry \"abc 12 f\"");
    EXPECT_EQ(error_of([] { parse_release("Suite: x\nMD5Sum:\n abc 12 f\n", "IR"); }),
              "IR: no SHA256 field (MD5Sum-only archives are not trusted)");
}

TEST(Release, ValidUntil) {
    ReleaseFile r;
    check_valid_until(r, 2000000000, "IR"); // none set: nothing to check
    r.valid_until = "Sat, 06 Dec 2025 20:00:00 UTC";
    const int64_t t = 1765051200; // that moment
    check_valid_until(r, t, "IR");
    EXPECT_EQ(error_of([&] { check_valid_until(r, t + 1, "IR"); }),
              "IR: expired on Sat, 06 Dec 2025 20:00:00 UTC (Valid-Until): the mirror serves an "
              "outdated Release");
    r.valid_until = "tomorrow";
    EXPECT_EQ(error_of([&] { check_valid_until(r, t, "IR"); }),
              "IR: unreadable Valid-Until \"tomorrow\"");
}

} // namespace sysext::source

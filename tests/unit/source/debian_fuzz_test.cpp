// Hostile-input regression for the Debian index parsers: seeded mutations of a
// Packages index, a Release file, a dpkg status file and version strings. Each
// parser may refuse its input only with sysext::Error of kind Input (or Usage
// for a version pattern) naming the input; anything else (another exception,
// a sanitizer report, a hang) fails. Deterministic: a fixed seed per case.
#include "sysext/source/debian_control.hpp"
#include "sysext/source/debian_packages.hpp"
#include "sysext/source/debian_release.hpp"
#include "sysext/source/version.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

#include <random>

namespace sysext::source {

namespace {

const std::string k_packages =
    "Package: podman\nVersion: 1:5.4.2+ds1-1~deb13u1\nArchitecture: amd64\n"
    "Depends: libc6 (>= 2.38), conmon (>= 2.1) | crun:any [amd64] <!nocheck>, oci-runtime\n"
    "Pre-Depends: dpkg (>> 1.0~)\nProvides: container-engine (= 5.4.2)\n"
    "Filename: pool/main/p/podman_5.4.2_amd64.deb\nSize: 12345\n"
    "SHA256: " + std::string(64, 'a') + "\nPriority: optional\nDescription: x\n long text\n .\n"
    "\n"
    "Package: libc6\nVersion: 2.41-7\nArchitecture: amd64\nPriority: required\nEssential: yes\n"
    "Filename: pool/main/g/libc6.deb\nSize: 1\nSHA256: " + std::string(64, 'b') + "\n"
    "\n"
    "Package: crun\nVersion: 1.21-1\nArchitecture: all\nProvides: oci-runtime\n"
    "Depends: libc6 (<< 3)\nFilename: pool/main/c/crun.deb\nSize: 2\nSHA256: " +
    std::string(64, 'c') + "\n";

const std::string k_release =
    "Origin: Debian\nSuite: stable\nCodename: trixie\nArchitectures: amd64 arm64\n"
    "Components: main\nAcquire-By-Hash: yes\nValid-Until: Sat, 06 Dec 2025 20:00:00 UTC\n"
    "SHA256:\n " + std::string(64, 'd') + " 1234 main/binary-amd64/Packages.xz\n " +
    std::string(64, 'e') + " 99 main/binary-all/Packages\n";

const std::string k_status =
    "Package: libc6\nStatus: install ok installed\nVersion: 2.41-7\nProvides: libc6-x (= 1)\n\n"
    "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n";

const std::vector<std::string> k_tokens = {
    "\n", " ", ":", ",", "|", "(", ")", "[", "]", "<", ">", "=", "-", "~", "+", ".", "\t", "#",
    "\r\n", "\n\n", "\n ", "0", "99999999999999999999999", "18446744073709551616", "-1",
    ":any", "Size: ", "Version: ", "Depends: ", "Provides: ", "SHA256:", "Package: ", "\xff",
    std::string(1, '\0'), "(>= )", "(<< 1", "1:", ":1", "a-", "-b", "epoch:", "4294967296:1"};

// One mutation: replace, insert or delete a byte run, or splice in a token.
std::string mutate(std::string s, std::mt19937& rng) {
    const int rounds = 1 + static_cast<int>(rng() % 4);
    for (int r = 0; r < rounds; ++r) {
        const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
        switch (rng() % 5) {
        case 0:
            if (at < s.size())
                s[at] = static_cast<char>(rng() % 256);
            break;
        case 1:
            s.erase(at, rng() % 40);
            break;
        case 2:
        case 3:
            s.insert(at, k_tokens[rng() % k_tokens.size()]);
            break;
        default:
            s.insert(at, s.substr(rng() % (s.size() + 1), rng() % 60));
            break;
        }
    }
    return s;
}

// Runs f; a refusal must be sysext::Error of one of the kinds, naming `origin`.
void expect_clean(const std::function<void()>& f, const std::string& origin, const std::string& input,
                  std::initializer_list<ErrorKind> kinds = {ErrorKind::Input}) {
    try {
        f();
    } catch (const Error& e) {
        bool kind_ok = false;
        for (ErrorKind k : kinds)
            kind_ok = kind_ok || e.kind() == k;
        EXPECT_TRUE(kind_ok) << "error kind " << static_cast<int>(e.kind()) << ": " << e.what()
                             << "\ninput:\n" << input;
        if (!origin.empty()) {
            EXPECT_NE(std::string(e.what()).find(origin), std::string::npos)
                << "error does not name " << origin << ": " << e.what() << "\ninput:\n" << input;
        }
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not a sysext::Error: " << e.what() << "\ninput:\n" << input;
    }
}

constexpr int k_cases = 1500;

} // namespace

// Found by the cases below, kept as plain regressions: a size of more than 64
// bits escaped as std::out_of_range ("stoull", exit code 1), and a bad Version
// in a dpkg status file named neither the file nor the line.
TEST(DebianFuzz, HugeSizesAndBadStatusVersionsNameTheInput) {
    std::string packages = k_packages;
    packages.replace(packages.find("Size: 12345"), 11, "Size: 123456789012345678901234567890");
    std::string release = k_release;
    release.replace(release.find(" 1234 "), 6, " 99999999999999999999 ");
    const std::string status = "Package: libc6\nStatus: install ok installed\nVersion: 2.41 7\n";
    auto error_of = [](const std::function<void()>& f) -> std::string {
        try {
            f();
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Input) << e.what();
            return e.what();
        }
        return "(no error)";
    };
    EXPECT_EQ(error_of([&] { PackageIndex("amd64").add(packages, "Packages"); }),
              "Packages:1: stanza lacks Package, Version, Filename, SHA256 or Size");
    EXPECT_EQ(error_of([&] { parse_release(release, "InRelease"); }).rfind("InRelease:9: bad SHA256 entry", 0),
              0u);
    EXPECT_EQ(error_of([&] { parse_base_system(status, "status"); }),
              "status:1: bad version \"2.41 7\": embedded space");
    EXPECT_EQ(parse_decimal("18446744073709551615"), UINT64_MAX);
    EXPECT_EQ(parse_decimal("18446744073709551616"), std::nullopt);
    EXPECT_EQ(parse_decimal(""), std::nullopt);
    EXPECT_EQ(parse_decimal("12a"), std::nullopt);
}

TEST(DebianFuzz, PackagesIndex) {
    std::mt19937 rng(20261129);
    for (int i = 0; i < k_cases; ++i) {
        const std::string text = mutate(k_packages, rng);
        expect_clean(
            [&] {
                PackageIndex idx("amd64");
                idx.add(text, "Packages.fuzz");
                for (const char* name : {"podman", "crun", "libc6"}) {
                    try {
                        const DebPackage& p = idx.choose(name, VersionPattern::parse("latest"));
                        idx.resolve({&p}, BaseSystem{});
                    } catch (const Error& e) {
                        // choose() and resolve() name packages, not the index.
                        EXPECT_EQ(e.kind(), ErrorKind::Input) << e.what();
                    }
                }
                try {
                    idx.minbase();
                } catch (const Error& e) {
                    EXPECT_EQ(e.kind(), ErrorKind::Input) << e.what();
                }
            },
            "Packages.fuzz", text);
    }
}

TEST(DebianFuzz, ReleaseFile) {
    std::mt19937 rng(7);
    for (int i = 0; i < k_cases; ++i) {
        const std::string text = mutate(k_release, rng);
        expect_clean(
            [&] {
                ReleaseFile r = parse_release(text, "InRelease.fuzz");
                check_valid_until(r, 0, "InRelease.fuzz");
            },
            "InRelease.fuzz", text);
    }
}

TEST(DebianFuzz, BaseSystem) {
    std::mt19937 rng(11);
    for (int i = 0; i < k_cases; ++i) {
        const std::string text = mutate(i % 2 ? k_status : "libc6 2.41-7\ncrun:amd64 1.0 # x\n", rng);
        expect_clean([&] { parse_base_system(text, "status.fuzz"); }, "status.fuzz", text);
    }
}

TEST(DebianFuzz, Versions) {
    std::mt19937 rng(3);
    const std::vector<std::string> seeds = {"1:5.4.2+ds1-1~deb13u1", "2.41-7", "0.9~rc1", "5.x", "latest"};
    for (int i = 0; i < k_cases; ++i) {
        const std::string a = mutate(seeds[rng() % seeds.size()], rng);
        const std::string b = mutate(seeds[rng() % seeds.size()], rng);
        expect_clean(
            [&] {
                DebianVersion va = DebianVersion::parse(a);
                DebianVersion vb = DebianVersion::parse(b);
                // An order: antisymmetric, and the printed form parses back to an equal version.
                EXPECT_EQ(compare_versions(va, vb) < 0, compare_versions(vb, va) > 0) << a << " " << b;
                EXPECT_EQ(compare_versions(DebianVersion::parse(va.str()), va), 0) << a;
            },
            "", a + " / " + b);
        expect_clean(
            [&] {
                VersionPattern p = VersionPattern::parse(a);
                pick_highest({DebianVersion::parse("1.2.3-1"), DebianVersion::parse("5.4.2")}, p);
            },
            "", a, {ErrorKind::Usage});
        expect_clean([&] { parse_relations(a + ", " + b, "Depends.fuzz"); }, "Depends.fuzz",
                     a + ", " + b);
    }
}

} // namespace sysext::source

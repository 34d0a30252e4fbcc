#include "sysext/source/debian_packages.hpp"
#include "sysext/util/error.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

namespace sysext::source {

namespace {

std::string stanza(const std::string& name, const std::string& version, const std::string& arch,
                   const std::string& extra = "") {
    return "Package: " + name + "\nVersion: " + version + "\nArchitecture: " + arch +
           "\nFilename: pool/main/" + name + "_" + version + "_" + arch +
           ".deb\nSize: 100\nSHA256: " + std::string(64, 'c') + "\n" + extra + "\n";
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::vector<std::string> names_of(const std::vector<const DebPackage*>& ps) {
    std::vector<std::string> out;
    for (auto* p : ps)
        out.push_back(p->name + "=" + p->version.str());
    return out;
}

PackageIndex sample_index() {
    PackageIndex idx("amd64");
    idx.add(
        stanza("podman", "4.9.4+ds1-1", "amd64",
               "Depends: libc6 (>= 2.34), conmon, libgpgme11t64\n") +
            stanza("podman", "5.4.2+ds1-1", "amd64",
                   "Depends: libc6 (>= 2.38), conmon (>= 2.1), libgpgme11t64 (>= 1.4.1), "
                   "crun | runc | oci-runtime\n") +
            stanza("podman", "5.5.0-1", "arm64") + // another architecture: ignored
            stanza("conmon", "2.1.12-4", "amd64", "Depends: libc6, libglib2.0-0t64 (>= 2.75)\n") +
            stanza("libgpgme11t64", "1.24.2-3", "amd64",
                   "Pre-Depends: libassuan9\nDepends: libc6\n") +
            stanza("libassuan9", "3.0.2-2", "amd64") +
            stanza("libglib2.0-0t64", "2.84.1-1", "amd64", "Depends: libffi8, libc6\n") +
            stanza("libglib2.0-0t64", "2.70.0-1", "amd64") + stanza("libffi8", "3.4.7-1", "amd64") +
            stanza("crun", "1.21-1", "amd64", "Provides: oci-runtime\nDepends: libyajl2\n") +
            stanza("libyajl2", "2.1.0-5", "amd64") + stanza("policy-data", "1.0-1", "all"),
        "Packages");
    return idx;
}

} // namespace

TEST(PackageIndex, ChoosesByPattern) {
    auto idx = sample_index();
    EXPECT_EQ(idx.size(), 11u);
    EXPECT_EQ(idx.choose("podman", VersionPattern::parse("5.x")).version.str(), "5.4.2+ds1-1");
    EXPECT_EQ(idx.choose("podman", VersionPattern::parse("4.x")).version.str(), "4.9.4+ds1-1");
    EXPECT_EQ(idx.choose("podman", VersionPattern::latest()).filename,
              "pool/main/podman_5.4.2+ds1-1_amd64.deb");
    EXPECT_EQ(idx.choose("policy-data", VersionPattern::latest()).architecture, "all");
    EXPECT_EQ(error_of([&] { idx.choose("podman", VersionPattern::parse("6.x")); }),
              "no version of \"podman\" matches \"6.x\" (available: 4.9.4+ds1-1, 5.4.2+ds1-1)");
    EXPECT_EQ(error_of([&] { idx.choose("podmna", VersionPattern::latest()); }),
              "package \"podmna\" is not in the amd64 index (did you mean \"podman\"?)");
    EXPECT_EQ(
        error_of([&] { idx.choose("oci-runtime", VersionPattern::latest()); }),
        "package \"oci-runtime\" is not in the amd64 index (it is a virtual package provided by "
        "\"crun\")");
}

TEST(PackageIndex, ResolvesDependenciesDownToTheBase) {
    auto idx = sample_index();
    BaseSystem base = parse_base_system("libc6:amd64 2.41-7\n# comment\nlibffi8\n", "base");
    auto closure = idx.resolve({&idx.choose("podman", VersionPattern::parse("5.x"))}, base);
    EXPECT_EQ(names_of(closure),
              (std::vector<std::string>{"conmon=2.1.12-4", "crun=1.21-1", "libassuan9=3.0.2-2",
                                        "libglib2.0-0t64=2.84.1-1", "libgpgme11t64=1.24.2-3",
                                        "libyajl2=2.1.0-5", "podman=5.4.2+ds1-1"}));
}

// Recommends are not followed by resolve(); recommended() finds the package
// that fills a named one, unmet_recommends() lists those left out once each.
TEST(PackageIndex, RecommendsAreNamedNotFollowed) {
    PackageIndex idx("amd64");
    idx.add(stanza("netavark", "1.14.0-2", "amd64",
                   "Depends: libc6\nRecommends: nftables, aardvark-dns (>= 1.14), "
                   "aardvark-dns (<< 1.15)\n") +
                stanza("nftables", "1.1.3-1", "amd64",
                       "Depends: libnftables1\nRecommends: netbase\n") +
                stanza("libnftables1", "1.1.3-1", "amd64") +
                stanza("aardvark-dns", "1.14.0-3", "amd64") +
                stanza("podman", "5.4.2-1", "amd64", "Recommends: uidmap | newuidmap\n") +
                stanza("uidmap", "4.17-1", "amd64", "Provides: newuidmap\n"),
            "Packages");
    BaseSystem base = parse_base_system("libc6\n", "base");
    std::vector<const DebPackage*> roots = {&idx.choose("netavark", VersionPattern::latest()),
                                            &idx.choose("podman", VersionPattern::latest())};
    auto closure = idx.resolve(roots, base);
    EXPECT_EQ(names_of(closure), (std::vector<std::string>{"netavark=1.14.0-2", "podman=5.4.2-1"}));
    EXPECT_EQ(idx.unmet_recommends(closure, base),
              (std::vector<std::string>{
                  "aardvark-dns (recommended by netavark 1.14.0-2)",
                  "nftables (recommended by netavark 1.14.0-2)",
                  "uidmap | newuidmap (recommended by podman 5.4.2-1)"}));
    EXPECT_EQ(idx.recommended(closure, "netbase"), nullptr); // nftables is not taken yet
    ASSERT_NE(idx.recommended(closure, "newuidmap"), nullptr);
    EXPECT_EQ(idx.recommended(closure, "newuidmap")->name, "uidmap");
    roots.push_back(idx.recommended(closure, "nftables"));
    closure = idx.resolve(roots, base);
    EXPECT_EQ(names_of(closure),
              (std::vector<std::string>{"libnftables1=1.1.3-1", "netavark=1.14.0-2",
                                        "nftables=1.1.3-1", "podman=5.4.2-1"}));
    EXPECT_EQ(idx.unmet_recommends(closure, base),
              (std::vector<std::string>{"aardvark-dns (recommended by netavark 1.14.0-2)",
                                        "netbase (recommended by nftables 1.1.3-1)",
                                        "uidmap | newuidmap (recommended by podman 5.4.2-1)"}));
    // The base fills a recommendation as it fills a dependency.
    BaseSystem with_uidmap = parse_base_system("libc6\nuidmap\n", "base");
    EXPECT_EQ(idx.unmet_recommends(closure, with_uidmap).size(), 2u);
}

TEST(PackageIndex, ReportsWhatCannotBeSatisfied) {
    auto idx = sample_index();
    BaseSystem old_base = parse_base_system("libc6\t2.36-9+deb12u4\nlibffi8\n", "bookworm.list");
    EXPECT_EQ(
        error_of(
            [&] { idx.resolve({&idx.choose("podman", VersionPattern::parse("5.x"))}, old_base); }),
        "podman 5.4.2+ds1-1 depends on libc6 (>= 2.38), but the base system (bookworm.list) has "
        "libc6 2.36-9+deb12u4");
    EXPECT_EQ(error_of([] { parse_base_system("libc6 2.36\nlibx 1.0_bad\n", "b.list"); }),
              "b.list:2: bad version \"1.0_bad\": invalid character \"_\" in upstream version");
    EXPECT_EQ(
        error_of([&] { idx.resolve({&idx.choose("podman", VersionPattern::parse("5.x"))}, {}); }),
        "podman 5.4.2+ds1-1 depends on libc6 (>= 2.38), which no package in the amd64 index "
        "satisfies");
}

TEST(PackageIndex, RefusesBadStanzas) {
    PackageIndex idx("amd64");
    EXPECT_EQ(error_of([&] { idx.add("Package: a\nArchitecture: amd64\nVersion: 1\n", "P"); }),
              "P:1: stanza lacks Package, Version, Filename, SHA256 or Size");
    EXPECT_EQ(error_of([&] {
                  idx.add("\n" + stanza("a", "1", "amd64")
                                     .replace(stanza("a", "1", "amd64").find("pool/"), 5, "../../"),
                          "P");
              }),
              "P:2: bad Filename \"../../main/a_1_amd64.deb\"");
    // Dots inside a name are fine.
    idx.add(stanza("a", "1..2", "amd64"), "P");
    EXPECT_EQ(idx.size(), 1u);
    EXPECT_EQ(error_of([&] { idx.add(stanza("a", "x1", "amd64"), "P"); }),
              "P:1: bad version \"x1\": upstream version does not start with a digit");
}

TEST(PackageIndex, MinbaseIsRequiredPackagesAptAndTheirDependencies) {
    PackageIndex idx("amd64");
    idx.add(stanza("libc6", "2.41-7", "amd64", "Priority: optional\nProvides: libc-abi\n") +
                stanza("coreutils", "9.7-3", "amd64",
                       "Priority: required\nEssential: yes\nDepends: libc6\n") +
                stanza("apt", "3.0.3", "amd64", "Priority: important\nDepends: libapt-pkg7.0\n") +
                stanza("libapt-pkg7.0", "3.0.3", "amd64", "Priority: optional\n") +
                stanza("mawk", "1.3.4-1", "amd64", "Priority: required\nProvides: awk\n") +
                stanza("podman", "5.4.2-1", "amd64",
                       "Priority: optional\nDepends: libc6, awk, libgpgme11\n") +
                stanza("libgpgme11", "1.24-1", "amd64", "Priority: optional\n"),
            "Packages");
    BaseSystem base = idx.minbase();
    std::vector<std::string> names;
    for (const auto& [name, version] : base.packages)
        names.push_back(name);
    EXPECT_EQ(names, (std::vector<std::string>{"apt", "awk", "coreutils", "libapt-pkg7.0",
                                               "libc-abi", "libc6", "mawk"}));
    EXPECT_EQ(base.packages.at("libc6")->str(), "2.41-7");
    EXPECT_EQ(names_of(idx.resolve({&idx.choose("podman", VersionPattern::latest())}, base)),
              (std::vector<std::string>{"libgpgme11=1.24-1", "podman=5.4.2-1"}));
}

TEST(BaseSystem, ReadsDpkgStatus) {
    auto base = parse_base_system("Package: libc6\nStatus: install ok installed\nVersion: 2.41-7\n"
                                  "Provides: libc-dev-bin\n\n"
                                  "Package: gone\nStatus: deinstall ok config-files\n",
                                  "status");
    EXPECT_TRUE(base.has("libc6"));
    EXPECT_TRUE(base.has("libc-dev-bin"));
    EXPECT_FALSE(base.has("gone"));
    EXPECT_EQ(base.packages.at("libc6")->str(), "2.41-7");
    EXPECT_FALSE(base.packages.at("libc-dev-bin").has_value());
}

TEST(IndexFile, GzipCutInItsTrailerIsAnInputError) {
    // Found by fuzzing: libarchive gives no reason for such a stream, and the
    // null reason crashed the index reader.
    test::TempDir dir;
    test::write_text(dir / "Packages", stanza("a", "1.0", "amd64"));
    int status = 0;
    test::run("cd '" + dir.path() + "' && gzip -n Packages && truncate -s -4 Packages.gz", &status);
    ASSERT_EQ(status, 0);
    try {
        read_index_file(dir / "Packages.gz", "main/binary-amd64/Packages.gz", 1 << 20);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()), "main/binary-amd64/Packages.gz: unreadable archive");
    }
}

} // namespace sysext::source

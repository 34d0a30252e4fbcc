#include "sysext/release/host_match.hpp"

#include <gtest/gtest.h>

namespace sysext::release {

namespace {
const KeyValues k_debian = {{"ID", "debian"}, {"VERSION_ID", "13"}};
const KeyValues k_flatcar = {
    {"ID", "flatcar"}, {"ID_LIKE", "coreos"}, {"VERSION_ID", "4152.2.0"}, {"SYSEXT_LEVEL", "1.0"}};
const KeyValues k_arch = {{"ID", "arch"}};
} // namespace

TEST(HostMatch, AnyIdMatchesEveryHostButNotAnotherArchitecture) {
    EXPECT_TRUE(match_host({{"ID", "_any"}}, k_debian, "x86-64").accepted);
    EXPECT_TRUE(
        match_host({{"ID", "_any"}, {"ARCHITECTURE", "_any"}}, k_flatcar, "arm64").accepted);
    auto m = match_host({{"ID", "_any"}, {"ARCHITECTURE", "arm64"}}, k_debian, "x86-64");
    EXPECT_FALSE(m.accepted);
    EXPECT_EQ(m.reason, "ARCHITECTURE=arm64, but the host is x86-64");
}

TEST(HostMatch, IdMustBeTheHostsOrInItsIdLike) {
    auto m = match_host({{"ID", "fedora"}, {"VERSION_ID", "41"}}, k_debian, "x86-64");
    EXPECT_FALSE(m.accepted);
    EXPECT_EQ(m.reason, "ID=fedora, but the host is ID=debian");
    EXPECT_TRUE(
        match_host({{"ID", "coreos"}, {"SYSEXT_LEVEL", "1.0"}}, k_flatcar, "x86-64").accepted);
    EXPECT_FALSE(match_host({}, k_debian, "x86-64").accepted);
    EXPECT_FALSE(match_host({{"VERSION_ID", "13"}}, k_debian, "x86-64").accepted);
}

TEST(HostMatch, LevelIsComparedWhenBothHaveOneElseVersion) {
    EXPECT_TRUE(
        match_host({{"ID", "flatcar"}, {"SYSEXT_LEVEL", "1.0"}}, k_flatcar, "x86-64").accepted);
    auto level = match_host({{"ID", "flatcar"}, {"SYSEXT_LEVEL", "2.0"}}, k_flatcar, "x86-64");
    EXPECT_FALSE(level.accepted);
    EXPECT_EQ(level.reason, "SYSEXT_LEVEL=2.0, but the host has SYSEXT_LEVEL=1.0");
    EXPECT_TRUE(
        match_host({{"ID", "flatcar"}, {"VERSION_ID", "4152.2.0"}}, k_flatcar, "x86-64").accepted);
    // The host has no SYSEXT_LEVEL: a level alone does not stand in for VERSION_ID.
    auto no_version = match_host({{"ID", "debian"}, {"SYSEXT_LEVEL", "1.0"}}, k_debian, "x86-64");
    EXPECT_FALSE(no_version.accepted);
    EXPECT_NE(no_version.reason.find("no VERSION_ID"), std::string::npos);
    auto other = match_host({{"ID", "debian"}, {"VERSION_ID", "12"}}, k_debian, "x86-64");
    EXPECT_FALSE(other.accepted);
    EXPECT_EQ(other.reason, "VERSION_ID=12, but the host has VERSION_ID=13");
}

TEST(HostMatch, RollingHostAcceptsAnyVersion) {
    EXPECT_TRUE(match_host({{"ID", "arch"}}, k_arch, "x86-64").accepted);
    EXPECT_TRUE(match_host({{"ID", "arch"}, {"VERSION_ID", "1"}}, k_arch, "x86-64").accepted);
}

TEST(HostMatch, ScopeMustIncludeTheHosts) {
    KeyValues initrd_only = {{"ID", "_any"}, {"SYSEXT_SCOPE", "initrd"}};
    EXPECT_FALSE(match_host(initrd_only, k_debian, "x86-64").accepted);
    EXPECT_TRUE(match_host(initrd_only, k_debian, "x86-64", "initrd").accepted);
    EXPECT_TRUE(match_host({{"ID", "_any"}}, k_debian, "x86-64", "portable").accepted);
    EXPECT_FALSE(match_host({{"ID", "_any"}}, k_debian, "x86-64", "initrd").accepted);
}

TEST(HostMatch, RunningArchitectureIsSystemdsName) {
    std::string a = running_architecture();
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a.find('_'), std::string::npos) << a; // x86_64 must become x86-64
}

} // namespace sysext::release

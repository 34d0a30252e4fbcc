#include "sysext/release/release.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

namespace sysext::release {

TEST(Release, RendersInFixedOrderWithQuoting) {
    Fields f;
    f.os_id = "flatcar";
    f.version_id = "4593.2.5";
    f.architecture = "x86-64";
    f.reload_manager = true;
    f.scope = "system portable";
    f.extra = {{"SYSEXT_ID", "podman"}, {"SYSEXT_NAME", "Podman \"5\" $x"}};
    EXPECT_EQ(render(f), "ID=flatcar\n"
                         "VERSION_ID=4593.2.5\n"
                         "ARCHITECTURE=x86-64\n"
                         "SYSEXT_SCOPE=\"system portable\"\n"
                         "EXTENSION_RELOAD_MANAGER=1\n"
                         "SYSEXT_ID=podman\n"
                         "SYSEXT_NAME=\"Podman \\\"5\\\" \\$x\"\n");
    auto kv = parse(render(f), "x");
    EXPECT_EQ(kv["SYSEXT_NAME"], "Podman \"5\" $x");
    EXPECT_EQ(kv["SYSEXT_SCOPE"], "system portable");
    EXPECT_EQ(kv["ID"], "flatcar");
}

TEST(Release, CheckListsEveryProblem) {
    Fields f;
    f.architecture = "x86_64";
    f.scope = "system host";
    f.extra = {{"lower", "x"}};
    auto p = check(f, "flags");
    ASSERT_EQ(p.size(), 4u);
    EXPECT_EQ(p[0], "flags: ID is missing (give the host's os-release ID, or _any)");
    EXPECT_EQ(p[1], "flags: unknown architecture \"x86_64\" (did you mean \"x86-64\"?)");
    EXPECT_EQ(p[2], "flags: SYSEXT_SCOPE word \"host\" is not one of initrd, system, portable");
    EXPECT_EQ(p[3], "flags: key \"lower\" is not valid (uppercase letters, digits, _)");
}

// Values that reach the release file are held to os-release(5)'s rules, so no
// value can add a line or make our reader see another ID than systemd does.
TEST(Release, CheckRefusesValuesSystemdWouldReadOtherwise) {
    Fields f;
    f.os_id = "debian";
    f.version_id = "13\"\nID=fedora";
    f.sysext_level = "1.0 beta";
    f.extra = {{"SYSEXT_NAME", "Podman\rX"}, {"SYSEXT_ID", "podman"}};
    auto p = check(f, "flags");
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0], "flags: VERSION_ID \"13\\\"\\x0aID=fedora\" is not a valid os-release VERSION_ID "
                    "(lowercase letters, digits, \"._-\")");
    EXPECT_EQ(p[1], "flags: SYSEXT_LEVEL \"1.0 beta\" is not a valid os-release SYSEXT_LEVEL "
                    "(lowercase letters, digits, \"._-\")");
    EXPECT_EQ(p[2], "flags: value of SYSEXT_NAME holds a control character: \"Podman\\x0dX\"");
    for (const char* bad : {"13 beta", "Thirteen", "13\t"}) {
        f = {};
        f.os_id = "debian";
        f.version_id = bad;
        EXPECT_EQ(check(f, "flags").size(), 1u) << bad;
    }
    f = {};
    f.os_id = "flatcar";
    f.version_id = "4593.2.5";
    f.sysext_level = "1.0";
    EXPECT_TRUE(check(f, "flags").empty());
}

TEST(Release, ParseErrorsGiveLine) {
    try {
        parse("ID=debian\n# comment\nVERSION_ID\n", "ext");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "ext:3: expected KEY=value, got \"VERSION_ID\"");
    }
    EXPECT_THROW(parse("ID=\"debian\n", "ext"), Error);
    try {
        parse("ID=debian\nVERSION_ID=13\nID=fedora\n", "ext");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "ext:3: ID is given twice");
    }
}

TEST(Release, NamesFromImageFiles) {
    EXPECT_EQ(name_from_image_file("out/podman.raw"), "podman");
    EXPECT_EQ(name_from_image_file("podman.sysext.raw"), "podman");
    EXPECT_EQ(name_from_image_file("flatcar-podman.raw"), "flatcar-podman");
    EXPECT_EQ(release_path("podman"), "usr/lib/extension-release.d/extension-release.podman");
    EXPECT_TRUE(valid_name("podman_5.4+x"));
    EXPECT_FALSE(valid_name(".hidden"));
    EXPECT_FALSE(valid_name("a/b"));
    EXPECT_TRUE(known_architecture("arm64"));
    EXPECT_TRUE(known_architecture("_any"));
    EXPECT_FALSE(known_architecture("amd64"));
}

} // namespace sysext::release

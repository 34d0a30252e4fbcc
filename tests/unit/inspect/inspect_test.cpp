// inspect() on images our writer packs: release rules and detection. Signed
// images, disk images and payloads are covered end to end (tests/e2e/inspect.sh).
#include "squashfs/test_image.hpp"
#include "sysext/inspect/inspect.hpp"
#include "sysext/squashfs/writer.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

namespace sysext::inspect {

namespace {

using test::inline_file;

void pack(const std::string& path, const std::string& release_name, const std::string& release_text,
          bool os_release = false) {
    tree::Tree t;
    t.add("usr/bin/tool", inline_file("#!/bin/sh\n"));
    t.add("usr/lib/extension-release.d/extension-release." + release_name,
          inline_file(release_text));
    if (os_release)
        t.add("usr/lib/os-release", inline_file("ID=debian\n"));
    t.add("etc/stray", inline_file("x"));
    t.finalize();
    squashfs::WriterOptions o;
    o.jobs = 1;
    test::write_image_file(t, path, o);
}

Inspection run(const std::string& path) {
    return inspect({path, "", {}});
}

} // namespace

TEST(Inspect, UnsignedImageWithMatchingReleaseIsFine) {
    test::TempDir dir;
    pack(dir / "demo.raw", "demo", "ID=_any\nARCHITECTURE=x86-64\nVERSION_ID=\"1.0\"\n");
    Inspection r = run(dir / "demo.raw");
    EXPECT_EQ(r.kind, "squashfs");
    EXPECT_EQ(r.image_name, "demo");
    EXPECT_TRUE(r.ok()) << testing::PrintToString(r.problems);
    ASSERT_EQ(r.releases.size(), 1u);
    EXPECT_TRUE(r.releases[0].matches_image);
    EXPECT_EQ(r.releases[0].fields.at("VERSION_ID"), "1.0");
    EXPECT_EQ(r.verity.status, "none");
    EXPECT_EQ(r.signature.status, "none");
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0], "etc: outside usr/ and opt/; systemd-sysext does not merge it");
    nlohmann::json j = to_json(r);
    EXPECT_EQ(j["release"]["ARCHITECTURE"], "x86-64");
    EXPECT_EQ(j["contents"]["files"], 3);
    EXPECT_NE(to_text(r).find("  release: extension-release.demo\n    ARCHITECTURE=x86-64\n"),
              std::string::npos)
        << to_text(r);
}

TEST(Inspect, VersionedImageNameMatchesItsPrefix) {
    test::TempDir dir;
    pack(dir / "demo_1.2.raw", "demo", "ID=_any\n");
    EXPECT_TRUE(run(dir / "demo_1.2.raw").ok());
}

TEST(Inspect, ReportsWhatSystemdWouldRefuse) {
    test::TempDir dir;
    pack(dir / "renamed.raw", "demo", "ID=_any\n");
    Inspection r = run(dir / "renamed.raw");
    ASSERT_EQ(r.problems.size(), 1u) << testing::PrintToString(r.problems);
    EXPECT_EQ(r.problems[0],
              "release: the image holds extension-release.demo but systemd-sysext looks for "
              "usr/lib/extension-release.d/extension-release.renamed for an image file named "
              "renamed.raw; "
              "it refuses the image");

    pack(dir / "bad.raw", "bad", "ARCHITECTURE=aarch64\n", true);
    r = run(dir / "bad.raw");
    ASSERT_EQ(r.problems.size(), 3u) << testing::PrintToString(r.problems);
    EXPECT_EQ(
        r.problems[0],
        "release: extension-release.bad: ID is missing (give the host's os-release ID, or _any)");
    EXPECT_EQ(r.problems[1], "release: extension-release.bad: unknown architecture \"aarch64\" "
                             "(did you mean \"arm64\"?)");
    EXPECT_EQ(
        r.problems[2],
        "usr/lib/os-release: an extension must not carry it; systemd-sysext refuses the image");

    pack(dir / "demo.img", "demo", "ID=_any\n");
    r = run(dir / "demo.img"); // and its name is "demo.img", not "demo"
    ASSERT_EQ(r.problems.size(), 2u) << testing::PrintToString(r.problems);
    EXPECT_EQ(r.problems[0],
              dir / "demo.img" + ": systemd-sysext only picks up images named NAME.raw");
}

TEST(Inspect, SaysWhetherAHostWouldMergeTheImage) {
    test::TempDir dir;
    pack(dir / "demo.raw", "demo", "ID=fedora\nVERSION_ID=40\nARCHITECTURE=x86-64\n");
    test::write_text(dir / "debian", "ID=debian\nVERSION_ID=\"13\"\n");
    test::write_text(dir / "fedora", "ID=fedora\nVERSION_ID=40\n");
    InspectOptions o{dir / "demo.raw", "", {}};
    o.os_release = dir / "debian";
    o.host_arch = "x86-64";
    Inspection r = inspect(o);
    ASSERT_TRUE(r.host_checked);
    EXPECT_FALSE(r.host.accepted);
    ASSERT_EQ(r.problems.size(), 1u) << testing::PrintToString(r.problems);
    EXPECT_EQ(r.problems[0], "host: " + dir / "debian" + ": ID=fedora, but the host is ID=debian");

    o.os_release = dir / "fedora";
    r = inspect(o);
    EXPECT_TRUE(r.ok()) << testing::PrintToString(r.problems);
    EXPECT_TRUE(r.host.accepted);
    EXPECT_EQ(to_json(r)["host"]["reason"], "ID and VERSION_ID match");

    o.host_arch = "arm64";
    r = inspect(o);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_EQ(r.problems[0], "host: " + dir / "fedora" + ": ARCHITECTURE=x86-64, but the host is arm64");
}

TEST(Inspect, DamagedContentsAreAProblemNotACrash) {
    test::TempDir dir;
    pack(dir / "demo.raw", "demo", "ID=_any\n");
    std::string bytes = read_file(dir / "demo.raw");
    test::write_text(dir / "demo.raw", bytes.substr(0, 200));
    Inspection r = run(dir / "demo.raw");
    EXPECT_FALSE(r.contents_read);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_EQ(r.problems[0].rfind("contents: " + dir / "demo.raw" + ": truncated", 0), 0u)
        << r.problems[0];
}

TEST(Inspect, UnknownFilesAreInputErrorsNamingTheMagic) {
    test::TempDir dir;
    test::write_text(dir / "x.bin", "PK\x03\x04rest");
    try {
        run(dir / "x.bin");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()),
                  dir / "x.bin" +
                      ": not a squashfs or EROFS image, GPT disk image or Flatcar update payload "
                      "(it starts with 50 4b 03 04 72 65 73 74 \"PK\\x03\\x04rest\")");
    }
}

} // namespace sysext::inspect

#include "sysext/pipeline/image_format.hpp"
#include "sysext/profile/profile.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

namespace sysext::pipeline {

namespace {

// A profile whose target packs EROFS from release 4628 of ${os_version} on, squashfs before.
const char* k_profile = R"({
  "name": "tool",
  "targets": {
    "flatcar": {
      "release": {"ID": "flatcar", "VERSION_ID": "${os_version}"},
      "format": [
        {
          "when": {"version": "${os_version}", "at_least": "4628"},
          "format": "erofs", "compression": "lz4hc:12", "erofs_pcluster": "64K",
          "tail_packing": true, "disk_image": true
        },
        {"format": "squashfs", "compression": "zstd:22", "block_size": "512K"}
      ],
      "sources": [{"type": "directory", "path": "${root}"}]
    }
  }
})";

const profile::TargetSpec& flatcar() {
    static const profile::Profile p = profile::parse(k_profile, "p.json");
    return p.targets.at("flatcar");
}

const profile::FormatRule* rule_for(const std::string& os_version) {
    return matching_rule(flatcar(), {{"os_version", os_version}});
}

std::string error_of(const FormatRequest& req, const profile::FormatRule* rule) {
    try {
        resolve_image_settings(req, rule, 0);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

std::vector<std::string> problems_of(const std::string& text) {
    try {
        profile::parse(text, "p.json");
    } catch (const MultiError& e) {
        return e.problems();
    }
    return {};
}

} // namespace

TEST(ImageFormat, ReleaseChoosesTheRule) {
    for (const char* v : {"4628.0.0", "4628", "4757.1.2", "10000.0.0"}) {
        const profile::FormatRule* r = rule_for(v);
        ASSERT_NE(r, nullptr) << v;
        EXPECT_EQ(r->format, "erofs") << v;
        EXPECT_EQ(r->origin.str(), "p.json:7");
    }
    for (const char* v : {"4593.2.5", "4627.9.9", "3975.2.2"}) {
        const profile::FormatRule* r = rule_for(v);
        ASSERT_NE(r, nullptr) << v;
        EXPECT_EQ(r->format, "squashfs") << v;
    }
}

TEST(ImageFormat, FlatcarSettingsFromTheRule) {
    ImageSettings s = resolve_image_settings({}, rule_for("4628.0.0"), 1700000000);
    EXPECT_EQ(s.format, ImageFormat::Erofs);
    EXPECT_EQ(s.erofs.compression.to_string(), "lz4hc:12");
    EXPECT_EQ(s.erofs.pcluster_size, 65536u);
    EXPECT_TRUE(s.erofs.tail_packing);
    EXPECT_EQ(s.erofs.mtime, 1700000000u);
    EXPECT_TRUE(s.disk_image);
    EXPECT_EQ(s.rule, "p.json:7");
    EXPECT_EQ(s.lock_settings(),
              (std::map<std::string, std::string>{{"compression", "lz4hc:12"},
                                                  {"erofs_pcluster", "65536"},
                                                  {"fragments", "no"},
                                                  {"format", "erofs"},
                                                  {"tail_packing", "yes"},
                                                  {"xattrs", "yes"}}));

    s = resolve_image_settings({}, rule_for("4593.2.5"), 0);
    EXPECT_EQ(s.format, ImageFormat::Squashfs);
    EXPECT_EQ(s.squashfs.compression.to_string(), "zstd:22");
    EXPECT_EQ(s.squashfs.block_size, 512u * 1024);
    EXPECT_FALSE(s.disk_image);
    EXPECT_EQ(s.lock_settings().at("block_size"), "524288");
    EXPECT_EQ(s.lock_settings().count("erofs_pcluster"), 0u);
}

TEST(ImageFormat, DefaultsWithoutRules) {
    ImageSettings s = resolve_image_settings({}, nullptr, 0);
    EXPECT_EQ(s.format, ImageFormat::Squashfs);
    EXPECT_EQ(s.compression(), "zstd:15");
    EXPECT_EQ(s.squashfs.block_size, 128u * 1024);
    FormatRequest erofs;
    erofs.format = "erofs";
    s = resolve_image_settings(erofs, nullptr, 0);
    EXPECT_EQ(s.compression(), "lz4hc:12");
    EXPECT_EQ(s.erofs.pcluster_size, 65536u);
    EXPECT_FALSE(s.erofs.tail_packing);
    EXPECT_FALSE(s.disk_image);
}

TEST(ImageFormat, FlagsWinAndAnotherFormatDropsTheRule) {
    FormatRequest req;
    req.compression = "lz4hc:9";
    req.pcluster = "128K";
    ImageSettings s = resolve_image_settings(req, rule_for("4628.0.0"), 0);
    EXPECT_EQ(s.compression(), "lz4hc:9");
    EXPECT_EQ(s.erofs.pcluster_size, 128u * 1024);
    EXPECT_TRUE(s.erofs.tail_packing); // still the rule's
    // --format squashfs for a release whose rule says EROFS: squashfs's defaults.
    FormatRequest sq;
    sq.format = "squashfs";
    s = resolve_image_settings(sq, rule_for("4628.0.0"), 0);
    EXPECT_EQ(s.format, ImageFormat::Squashfs);
    EXPECT_EQ(s.compression(), "zstd:15");
    EXPECT_FALSE(s.disk_image);
    EXPECT_TRUE(s.rule.empty());
    // --format erofs for an older release: EROFS's defaults, no disk image.
    FormatRequest er;
    er.format = "erofs";
    s = resolve_image_settings(er, rule_for("4593.2.5"), 0);
    EXPECT_EQ(s.compression(), "lz4hc:12");
    EXPECT_FALSE(s.erofs.tail_packing);
    EXPECT_FALSE(s.disk_image);
}

TEST(ImageFormat, SettingsOfTheOtherFormatAreRefused) {
    FormatRequest req;
    req.compression = "gzip:9";
    EXPECT_EQ(error_of(req, rule_for("4628.0.0")),
              "--compression: \"gzip:9\" is a squashfs compression; EROFS images take none, lz4, "
              "lz4hc[:1-12], lzma[:0-9] or zstd[:1-22] (or choose --format squashfs)");
    req = {};
    req.format = "squashfs";
    req.compression = "lz4hc:12";
    EXPECT_EQ(error_of(req, nullptr),
              "--compression: \"lz4hc:12\" is an EROFS compression; squashfs images take "
              "zstd[:1-22], xz[:0-9], gzip[:1-9] or lz4[:hc] (or choose --format erofs)");
    req = {};
    req.block_size = "256K";
    EXPECT_EQ(error_of(req, rule_for("4757.0.0")),
              "--block-size is a squashfs setting; EROFS images take --erofs-pcluster "
              "(p.json:7 chooses EROFS)");
    req = {};
    req.pcluster = "64K";
    EXPECT_EQ(error_of(req, rule_for("4593.2.5")), "--erofs-pcluster needs --format erofs");
    req = {};
    req.format = "erofs";
    req.pcluster = "66K";
    EXPECT_EQ(error_of(req, nullptr), "--erofs-pcluster: a multiple of 4K from 4K to 1M, not 67584");
    req.pcluster = "";
    req.compression = "lz4hc:13";
    EXPECT_EQ(error_of(req, nullptr), "--compression: LZ4HC levels are 1 to 12, not 13");
    // lz4 is both formats' compression.
    req = {};
    req.compression = "lz4";
    EXPECT_EQ(resolve_image_settings(req, nullptr, 0).compression(), "lz4");
    req.format = "erofs";
    EXPECT_EQ(resolve_image_settings(req, nullptr, 0).compression(), "lz4");
}

TEST(ImageFormat, BadRuleValuesNameTheRule) {
    profile::Profile p = profile::parse(R"({
  "name": "tool",
  "targets": {
    "t": {
      "release": {"ID": "_any"},
      "format": {"format": "erofs", "compression": "xz:6"},
      "sources": [{"type": "directory", "path": "x"}]
    }
  }
})",
                                        "p.json");
    const profile::FormatRule* rule = matching_rule(p.targets.at("t"), {});
    ASSERT_NE(rule, nullptr);
    try {
        resolve_image_settings({}, rule, 0);
        FAIL() << "xz taken for EROFS";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()),
                  "p.json:6: \"compression\": \"xz:6\" is a squashfs compression; EROFS images "
                  "take none, lz4, lz4hc[:1-12], lzma[:0-9] or zstd[:1-22] (or choose --format "
                  "squashfs)");
    }
    // A version that does not parse, named at its rule.
    try {
        matching_rule(flatcar(), {{"os_version", "not a version"}});
        FAIL() << "a bad version matched";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("p.json:7: \"when\": \"not a version\""), std::string::npos)
            << e.what();
    }
}

TEST(ImageFormat, ProfileChecksFormatRules) {
    auto p = problems_of(R"({
  "name": "tool",
  "targets": {
    "a": {
      "release": {"ID": "_any"},
      "format": "ext4",
      "sources": [{"type": "directory", "path": "x"}]
    },
    "b": {
      "release": {"ID": "_any"},
      "format": [{"format": "erofs", "block_size": "128K", "tail_packng": true}],
      "sources": [{"type": "directory", "path": "x"}]
    },
    "c": {
      "release": {"ID": "_any"},
      "format": [{"format": "squashfs", "erofs_pcluster": "64K", "when": {"version": "${v}"}}],
      "sources": [{"type": "directory", "path": "x"}]
    }
  }
})");
    ASSERT_EQ(p.size(), 5u) << ::testing::PrintToString(p);
    EXPECT_EQ(p[0], "p.json:6: unknown format \"ext4\" (squashfs or erofs)");
    EXPECT_EQ(p[1], "p.json:11: unknown key \"tail_packng\" (did you mean \"tail_packing\"?)");
    EXPECT_EQ(p[2], "p.json:11: \"block_size\" is a squashfs setting; EROFS images take \"erofs_pcluster\"");
    EXPECT_EQ(p[3], "p.json:16: missing key \"at_least\"");
    EXPECT_EQ(p[4], "p.json:16: \"erofs_pcluster\" is an EROFS setting");
}

TEST(ImageFormat, ShorthandString) {
    profile::Profile p = profile::parse(R"({
  "name": "tool",
  "targets": {
    "t": {"release": {"ID": "_any"}, "format": "erofs", "sources": [{"type": "directory", "path": "x"}]}
  }
})",
                                        "p.json");
    const profile::FormatRule* rule = matching_rule(p.targets.at("t"), {});
    ASSERT_NE(rule, nullptr);
    ImageSettings s = resolve_image_settings({}, rule, 0);
    EXPECT_EQ(s.format, ImageFormat::Erofs);
    EXPECT_EQ(s.compression(), "lz4hc:12");
    EXPECT_FALSE(s.disk_image);
}

} // namespace sysext::pipeline

namespace sysext::pipeline {

// Fragments: from the flag, or from a rule, for EROFS only; the lock records them.
TEST(ImageFormat, FragmentsAreAnErofsSetting) {
    FormatRequest req;
    req.fragments = 1;
    ImageSettings s = resolve_image_settings(req, rule_for("4628.0.0"), 0);
    EXPECT_TRUE(s.erofs.fragments);
    EXPECT_EQ(s.lock_settings().at("fragments"), "yes");
    EXPECT_FALSE(resolve_image_settings({}, rule_for("4628.0.0"), 0).erofs.fragments);
    EXPECT_EQ(error_of(req, rule_for("4593.2.5")), "--fragments needs --format erofs");
    req.compression = "none";
    EXPECT_EQ(error_of(req, rule_for("4628.0.0")),
              "--fragments needs compression: the packed inode is compressed");
    const profile::Profile p = profile::parse(R"({"name": "t", "targets": {"x": {
        "release": {"ID": "_any"}, "sources": [{"type": "directory", "path": "/"}],
        "format": {"format": "erofs", "fragments": true}}}})",
                                              "f.json");
    EXPECT_TRUE(resolve_image_settings({}, matching_rule(p.targets.at("x"), {}), 0).erofs.fragments);
    EXPECT_EQ(problems_of(R"({"name": "t", "targets": {"x": {
        "release": {"ID": "_any"}, "sources": [{"type": "directory", "path": "/"}],
        "format": {"format": "squashfs", "fragments": true}}}})"),
              std::vector<std::string>{"p.json:3: \"fragments\" is an EROFS setting"});
}

} // namespace sysext::pipeline

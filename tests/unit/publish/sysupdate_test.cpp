#include "sysext/publish/sysupdate.hpp"

#include <gtest/gtest.h>

namespace sysext::publish {

namespace {
Deployment podman() {
    Deployment d;
    d.name = "podman";
    d.version = "5.4.2";
    d.architecture = "arm64";
    d.image_file = sysupdate_image_file("podman", "5.4.2", "arm64");
    d.base_url = "http://127.0.0.1:8080/ext/";
    return d;
}
} // namespace

TEST(Sysupdate, VerifyYesWhenSha256sumsIsSigned) {
    Deployment d = podman();
    d.sidecar_suffixes = {".verity", ".roothash", ".roothash.p7s"};
    d.sha256sums_key = "0123456789ABCDEF0123456789ABCDEF01234567";
    for (const auto& f : transfer_files(d)) {
        EXPECT_NE(f.content.find("\nVerify=yes\n"), std::string::npos) << f.name;
        EXPECT_EQ(f.content.find("Verify=no"), std::string::npos) << f.name;
        EXPECT_NE(f.content.find("# " + d.sha256sums_key + ";"), std::string::npos) << f.content;
    }
}

TEST(Sysupdate, Names) {
    EXPECT_EQ(sysupdate_image_file("my-files", "1.0", "x86-64"), "my-files-1.0-x86-64.raw");
    EXPECT_EQ(match_pattern("my-files"), "my-files-@v-%a.raw");
}

TEST(Sysupdate, TransferFile) {
    std::string t = transfer_file(podman());
    EXPECT_NE(t.find("\n[Transfer]\n"), std::string::npos) << t;
    EXPECT_NE(t.find("\nVerify=no\n"), std::string::npos) << t;
    EXPECT_NE(t.find("\n[Source]\nType=url-file\nPath=http://127.0.0.1:8080/ext/"
                     "\nMatchPattern=podman-@v-%a.raw\n"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("\n[Target]\nType=regular-file\nPath=/opt/extensions/"
                     "podman\nMatchPattern=podman-@v-%a.raw\n"
                     "CurrentSymlink=/etc/extensions/podman.raw\nInstancesMax=3\n"),
              std::string::npos)
        << t;
    EXPECT_EQ(t.find(k_base_url_placeholder), std::string::npos);
    Deployment none = podman();
    none.base_url.clear();
    EXPECT_NE(transfer_file(none).find("Path=@BASE_URL@/\n"), std::string::npos);
}

TEST(Sysupdate, ButaneCommunityLayout) {
    std::string b = butane_snippet(podman(), "fcos", {{"podman-5.4.2-arm64.raw", "ab12"}});
    EXPECT_NE(
        b.find("\nvariant: fcos\nversion: 1.5.0\nstorage:\n  files:\n"
               "    - path: \"/opt/extensions/podman/podman-5.4.2-arm64.raw\"\n      mode: 0644\n"
               "      contents:\n        source: "
               "\"http://127.0.0.1:8080/ext/podman-5.4.2-arm64.raw\"\n"
               "        verification:\n          hash: \"sha512-ab12\"\n"),
        std::string::npos)
        << b;
    EXPECT_NE(b.find("    - path: \"/etc/sysupdate.podman.d/podman.conf\"\n"), std::string::npos)
        << b;
    EXPECT_NE(b.find("          [Source]\n          Type=url-file\n"), std::string::npos) << b;
    EXPECT_NE(
        b.find(
            "  links:\n    - path: \"/etc/extensions/podman.raw\"\n"
            "      target: \"/opt/extensions/podman/podman-5.4.2-arm64.raw\"\n      hard: false\n"),
        std::string::npos)
        << b;
    // The component's own service and timer; systemd-sysupdate.service is not touched.
    EXPECT_NE(b.find("    - name: \"sysext-update-podman.timer\"\n      enabled: true\n"),
              std::string::npos)
        << b;
    EXPECT_NE(b.find("        ExecStart=/usr/lib/systemd/systemd-sysupdate -C podman update\n"),
              std::string::npos)
        << b;
    EXPECT_EQ(b.find("systemd-sysupdate.service"), std::string::npos) << b;
    EXPECT_EQ(b.find("systemd-sysupdate.timer"), std::string::npos) << b;
}

// Sidecar-signed images: one transfer per file, each linked next to
// /etc/extensions/NAME.raw, and the Butane snippet downloads them all.
TEST(Sysupdate, SidecarsTravelWithTheImage) {
    Deployment d = podman();
    d.sidecar_suffixes = {".verity", ".roothash", ".roothash.p7s"};
    auto t = transfer_files(d);
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t[0].name, "podman.conf");
    EXPECT_EQ(t[1].name, "podman-verity.conf");
    EXPECT_EQ(t[3].name, "podman-roothash-p7s.conf");
    // The signature travels and is installed as NAME-V-A.p7s; only its link
    // has systemd-sysext's name.
    EXPECT_NE(t[3].content.find("[Source]\nType=url-file\nPath=http://127.0.0.1:8080/ext/\n"
                                "MatchPattern=podman-@v-%a.p7s\n"),
              std::string::npos)
        << t[3].content;
    EXPECT_NE(t[3].content.find("Path=/opt/extensions/podman\nMatchPattern=podman-@v-%a.p7s\n"
                                "CurrentSymlink=/etc/extensions/podman.roothash.p7s\n"),
              std::string::npos)
        << t[3].content;
    std::string b = butane_snippet(d, "fcos",
                                   {{"podman-5.4.2-arm64.raw", "ab12"},
                                    {"podman-5.4.2-arm64.verity", "cd34"},
                                    {"podman-5.4.2-arm64.roothash", "ef56"},
                                    {"podman-5.4.2-arm64.p7s", "0789"}});
    EXPECT_NE(b.find("    - path: \"/opt/extensions/podman/podman-5.4.2-arm64.p7s\"\n"
                     "      mode: 0644\n      contents:\n"
                     "        source: \"http://127.0.0.1:8080/ext/podman-5.4.2-arm64.p7s\"\n"
                     "        verification:\n          hash: \"sha512-0789\"\n"),
              std::string::npos)
        << b;
    EXPECT_NE(b.find("    - path: \"/etc/extensions/podman.roothash.p7s\"\n"
                     "      target: \"/opt/extensions/podman/podman-5.4.2-arm64.p7s\"\n"),
              std::string::npos)
        << b;
    EXPECT_NE(b.find("    - path: \"/etc/extensions/podman.verity\"\n"
                     "      target: \"/opt/extensions/podman/podman-5.4.2-arm64.verity\"\n"),
              std::string::npos)
        << b;
    EXPECT_NE(b.find("/etc/sysupdate.podman.d/podman-roothash.conf"), std::string::npos) << b;
}

// systemd-sysupdate 257 matches a MatchPattern= on any name that begins with
// it (in SHA256SUMS and in the target directory): no transfer's pattern, its
// version and architecture filled in, may begin another transfer's file name.
TEST(Sysupdate, NoPatternMatchesAnotherTransfersFile) {
    Deployment d = podman();
    d.sidecar_suffixes = {".verity", ".roothash", ".roothash.p7s"};
    std::vector<std::string> patterns;
    for (const auto& f : transfer_files(d)) {
        for (size_t at = f.content.find("MatchPattern="); at != std::string::npos;
             at = f.content.find("MatchPattern=", at + 1)) {
            std::string p = f.content.substr(at + 13, f.content.find('\n', at) - at - 13);
            p.replace(p.find("@v"), 2, "5.4.2");
            p.replace(p.find("%a"), 2, "arm64");
            patterns.push_back(p);
        }
    }
    ASSERT_EQ(patterns.size(), 8u); // source and target of four transfers
    for (size_t i = 0; i < patterns.size(); i += 2) {
        EXPECT_EQ(patterns[i], patterns[i + 1]); // served and installed under one name
        for (size_t j = 0; j < patterns.size(); j += 2) {
            if (i != j) {
                EXPECT_NE(patterns[j].rfind(patterns[i], 0), 0u)
                    << patterns[i] << " begins " << patterns[j];
            }
        }
    }
    // The Flatcar layout has no transfers and keeps systemd-sysext's names.
    d.flatcar_layout = true;
    EXPECT_EQ(sidecar_file_suffix(d, ".roothash.p7s"), ".roothash.p7s");
}

// The update units: the component's update, then a refresh only when the
// current version changed (or a reboot request, as chosen).
TEST(Sysupdate, UpdateUnits) {
    Deployment d = podman();
    auto u = update_units(d);
    ASSERT_EQ(u.size(), 2u);
    EXPECT_EQ(u[0].name, "sysext-update-podman.service");
    EXPECT_NE(u[0].content.find("ExecStartPre=/bin/mkdir -p /etc/extensions /opt/extensions/podman\n"), std::string::npos);
    EXPECT_NE(u[0].content.find("ExecStart=/usr/lib/systemd/systemd-sysupdate -C podman update\n"),
              std::string::npos);
    EXPECT_NE(u[0].content.find("ExecStartPost=/bin/sh -c '[ \"$$(readlink -f "
                                "/etc/extensions/podman.raw)\" = \"$$(cat "
                                "/run/sysext-update-podman.before)\" ] || systemd-sysext refresh'\n"),
              std::string::npos)
        << u[0].content;
    EXPECT_EQ(u[1].name, "sysext-update-podman.timer");
    EXPECT_NE(u[1].content.find("OnCalendar=daily\n"), std::string::npos);
    d.on_update = "reboot-required";
    EXPECT_NE(update_units(d)[0].content.find("|| touch /run/reboot-required'"), std::string::npos);
}

TEST(Sysupdate, ButaneFlatcarLayout) {
    Deployment d = podman();
    d.name = "flatcar-podman";
    d.image_file = "flatcar-podman.raw";
    d.flatcar_layout = true;
    d.os_version = "4593.2.5";
    std::string b = butane_snippet(d, "flatcar", {{"flatcar-podman.raw", "ab12"}});
    EXPECT_NE(b.find("variant: flatcar\nversion: 1.0.0\n"), std::string::npos) << b;
    EXPECT_NE(b.find("path: \"/etc/flatcar/sysext/flatcar-podman-4593.2.5.raw\""),
              std::string::npos)
        << b;
    EXPECT_NE(b.find("source: \"http://127.0.0.1:8080/ext/flatcar-podman.raw\""), std::string::npos)
        << b;
    EXPECT_NE(b.find("path: \"/etc/extensions/flatcar-podman.raw\""), std::string::npos) << b;
    EXPECT_EQ(b.find("sysupdate"), std::string::npos) << b;
}

} // namespace sysext::publish

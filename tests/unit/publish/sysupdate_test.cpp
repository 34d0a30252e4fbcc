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
    std::string b = butane_snippet(podman(), "fcos", "ab12");
    EXPECT_NE(
        b.find("\nvariant: fcos\nversion: 1.5.0\nstorage:\n  files:\n"
               "    - path: \"/opt/extensions/podman/podman-5.4.2-arm64.raw\"\n      mode: 0644\n"
               "      contents:\n        source: "
               "\"http://127.0.0.1:8080/ext/podman-5.4.2-arm64.raw\"\n"
               "        verification:\n          hash: \"sha512-ab12\"\n"),
        std::string::npos)
        << b;
    EXPECT_NE(b.find("    - path: \"/etc/sysupdate.podman.d/podman.transfer\"\n"),
              std::string::npos)
        << b;
    EXPECT_NE(b.find("          [Source]\n          Type=url-file\n"), std::string::npos) << b;
    EXPECT_NE(
        b.find(
            "  links:\n    - path: \"/etc/extensions/podman.raw\"\n"
            "      target: \"/opt/extensions/podman/podman-5.4.2-arm64.raw\"\n      hard: false\n"),
        std::string::npos)
        << b;
    EXPECT_NE(b.find("ExecStartPre=/usr/lib/systemd/systemd-sysupdate -C podman update\n"),
              std::string::npos)
        << b;
}

TEST(Sysupdate, ButaneFlatcarLayout) {
    Deployment d = podman();
    d.name = "flatcar-podman";
    d.image_file = "flatcar-podman.raw";
    d.flatcar_layout = true;
    d.os_version = "4593.2.5";
    std::string b = butane_snippet(d, "flatcar", "ab12");
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

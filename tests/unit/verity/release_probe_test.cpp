#include "sysext/util/error.hpp"
#include "sysext/verity/release_probe.hpp"
#include "sysext/verity/signed_image.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace sysext::verity {

TEST(ReleaseProbe, ImageNames) {
    EXPECT_EQ(image_name_from_path("dir/podman_5.4.2.raw"), "podman_5.4.2");
    EXPECT_EQ(image_name_from_path("docker.sysext.raw"), "docker");
    EXPECT_EQ(image_name_from_path("/a/b/plain"), "plain");
    EXPECT_EQ(sidecar_stem("x/demo.raw"), "x/demo");
    EXPECT_THROW(sidecar_stem("x/demo.img"), Error);
}

TEST(ReleaseProbe, Values) {
    ExtensionRelease r{"extension-release.demo",
                       "ID=_any\nARCHITECTURE=\"arm64\"\nVERSION_ID='1'\n"};
    EXPECT_EQ(r.value("ARCHITECTURE"), "arm64");
    EXPECT_EQ(r.value("VERSION_ID"), "1");
    EXPECT_EQ(r.value("ID"), "_any");
    EXPECT_EQ(r.value("SYSEXT_LEVEL"), "");
}

TEST(ReleaseProbe, RefusesWhatIsNotSquashfs) {
    FILE* f = std::tmpfile();
    std::fwrite(std::string(8192, 'x').data(), 1, 8192, f);
    std::fflush(f);
    try {
        find_extension_release({fileno(f), 0, 8192, "junk.raw"}, "junk");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "junk.raw: not a squashfs image");
    }
    std::fclose(f);
}

// A read that fails is reported as the I/O error it is, not as a bad image, and
// never thrown through libsquashfs's C frames.
TEST(ReleaseProbe, ReadErrorIsAnIoError) {
    int dir = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dir, 0);
    try {
        find_extension_release({dir, 0, 8192, "unreadable.raw"}, "unreadable");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Io);
        EXPECT_EQ(std::string(e.what()).rfind("unreadable.raw: ", 0), 0u) << e.what();
    }
    ::close(dir);
}

TEST(ReleaseProbe, TruncatedImageIsABadImage) {
    FILE* f = std::tmpfile();
    std::fwrite("hsqs", 1, 4, f);
    std::fflush(f);
    try {
        find_extension_release({fileno(f), 0, 8192, "short.raw"}, "short");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Verify);
        EXPECT_STREQ(e.what(), "short.raw: not a squashfs image");
    }
    std::fclose(f);
}

} // namespace sysext::verity

#include "squashfs/test_image.hpp"
#include "sysext/util/endian.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/verity/release_probe.hpp"
#include "sysext/verity/signed_image.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
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

TEST(ReleaseProbe, RefusesWhatIsNeitherSquashfsNorErofs) {
    FILE* f = std::tmpfile();
    std::fwrite(std::string(8192, 'x').data(), 1, 8192, f);
    std::fflush(f);
    try {
        find_extension_release({fileno(f), 0, 8192, "junk.raw"}, "junk");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Verify);
        EXPECT_STREQ(e.what(), "junk.raw: not a squashfs or EROFS image (no \"hsqs\" at byte 0, "
                               "no EROFS magic at byte 1024)");
    }
    std::fclose(f);
}

// A read that fails is reported as the I/O error it is, not as a bad image, and
// never thrown through libsquashfs's C frames.
TEST(ReleaseProbe, ReadErrorIsAnIoError) {
    test::TempDir dir;
    test::write_text(dir / "unreadable.raw", std::string(8192, 'x'));
    Fd fd = open_or_throw(dir / "unreadable.raw", O_WRONLY | O_CLOEXEC); // pread: EBADF
    try {
        find_extension_release({fd.get(), 0, 8192, "unreadable.raw"}, "unreadable");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Io);
        EXPECT_EQ(std::string(e.what()).rfind("unreadable.raw: ", 0), 0u) << e.what();
    }
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
        EXPECT_STREQ(e.what(), "short.raw: image of 8192 bytes at offset 0 runs past the end of "
                               "the file (4 bytes)");
    }
    std::fclose(f);
}

// Found by fuzzing: libsquashfs allocates the whole fragment table the
// superblock claims before reading it, and a 670-byte image asked for 16 GiB.
TEST(ReleaseProbe, FragmentTableLargerThanTheImageIsRefused) {
    test::TempDir dir;
    tree::Tree t;
    t.add("usr/lib/extension-release.d/extension-release.demo", test::inline_file("ID=_any\n"));
    t.finalize();
    squashfs::WriterOptions o;
    o.jobs = 1;
    test::write_image_file(t, dir / "demo.raw", o);
    const std::string bytes = read_file(dir / "demo.raw");
    auto probe = [&](uint32_t fragments) -> std::string {
        std::string damaged = bytes;
        put_le(reinterpret_cast<uint8_t*>(damaged.data()) + 16, fragments, 4);
        test::write_text(dir / "bad.raw", damaged);
        Fd fd = open_or_throw(dir / "bad.raw", O_RDONLY | O_CLOEXEC);
        try {
            find_extension_release({fd.get(), 0, damaged.size(), "bad.raw"}, "demo");
            return "no error";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Verify);
            return e.what();
        }
    };
    EXPECT_EQ(probe(1), "no error");
    EXPECT_EQ(
        probe(0x40000001),
        "bad.raw: fragment table of 1073741825 entries does not fit the image");
    EXPECT_EQ(probe(600000),
              "bad.raw: fragment table of 600000 entries does not fit the image");
}

} // namespace sysext::verity

namespace sysext::verity {
namespace {

// Found by fuzzing (these are the fuzzer's inputs), when the probe read with
// libsquashfs's own directory reader: one crashed it, the other made it
// allocate gigabytes. It now reads with the image reader, which checks sizes first.
std::string probe_file(const std::string& name) {
    const std::string path = std::filesystem::path(__FILE__).parent_path() / "data" / name;
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    try {
        find_extension_release({fd.get(), 0, file_size(fd.get(), path), name}, "image");
        return "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Verify) << e.what();
        return e.what();
    }
}

TEST(ReleaseProbe, FuzzerFindingsAreRefused) {
    EXPECT_EQ(probe_file("probe-crash.sqfs"),
              "probe-crash.sqfs: truncated: the superblock says the image has 612 bytes, only "
              "580 are there");
    EXPECT_EQ(probe_file("probe-oom.sqfs"),
              "probe-oom.sqfs: truncated: the superblock says the image has 612 bytes, only 531 "
              "are there");
}

} // namespace
} // namespace sysext::verity

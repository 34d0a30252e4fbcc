#include "sysext/ddi/disk_image.hpp"
#include "sysext/ddi/verity_sig.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace sysext::ddi {

namespace {

using test::TempDir;

std::string write_data(const std::string& path, size_t blocks) {
    std::string bytes(blocks * 4096, '\0');
    for (size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<char>(i * 13 % 251);
    FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    return bytes;
}

DdiResult make(const std::string& image, const std::string& out, int* sign_calls,
               Designator designator = Designator::Root) {
    Fd fd = open_or_throw(image, O_RDONLY);
    struct stat st {};
    ::fstat(fd.get(), &st);
    DdiRequest req{{fd.get(), 0, static_cast<uint64_t>(st.st_size), image},
                   out,
                   "arm64",
                   "demo",
                   std::string(32, 's'),
                   [sign_calls](std::string_view hex) {
                       ++*sign_calls;
                       return "signature over " + std::string(hex);
                   },
                   std::string(64, 'f'),
                   designator};
    return write_ddi(req, null_reporter());
}

} // namespace

TEST(DiskImage, LayoutUuidsAndContent) {
    TempDir dir;
    std::string data = write_data(dir / "demo.raw", 300);
    int calls = 0;
    DdiResult r = make(dir / "demo.raw", dir / "disk.raw", &calls);
    EXPECT_EQ(calls, 1);

    Fd disk = open_or_throw(dir / "disk.raw", O_RDONLY);
    uint64_t size = std::filesystem::file_size(dir / "disk.raw");
    EXPECT_EQ(size % 4096, 0u); // whole blocks, as a Flatcar payload carries them
    GptDisk gpt = read_gpt(disk.get(), size, "disk");
    DataPartitions parts = find_data_partitions(gpt, "disk");
    EXPECT_EQ(parts.types->arch, "arm64");
    EXPECT_EQ(parts.data_name(), "root-arm64");
    EXPECT_EQ(parts.data.type.to_string(), "b921b045-1df0-41c3-af44-4c6f280d3fae");
    EXPECT_EQ(usr_partition_problem(parts, "disk"), "");
    EXPECT_EQ(parts.data.first_lba, 2048u);
    EXPECT_EQ(parts.data.size(), data.size());
    EXPECT_EQ(parts.data.name, "demo");
    EXPECT_EQ(parts.verity.name, "demo-verity");
    EXPECT_EQ(parts.signature.name, "demo-verity-sig");
    EXPECT_EQ(0, std::memcmp(parts.data.uuid.bytes.data(), r.root_hash.data(), 16));
    EXPECT_EQ(0, std::memcmp(parts.verity.uuid.bytes.data(), r.root_hash.data() + 16, 16));
    EXPECT_EQ(parts.verity.size(), verity::plan_tree(data.size(), "d").hash_area_size());

    std::string fs(parts.data.size(), '\0');
    pread_full(disk.get(), fs.data(), fs.size(), static_cast<off_t>(parts.data.offset()), "d");
    EXPECT_EQ(fs, data);
    verity::verify_tree({disk.get(), parts.data.offset(), parts.data.size(), "usr"},
                        {disk.get(), parts.verity.offset(), parts.verity.size(), "verity"},
                        r.root_hash);

    std::string sig(parts.signature.size(), '\0');
    pread_full(disk.get(), sig.data(), sig.size(), static_cast<off_t>(parts.signature.offset()),
               "d");
    VeritySignature vs = decode_verity_signature(sig, "sig");
    EXPECT_EQ(vs.root_hash_hex, to_hex(r.root_hash));
    EXPECT_EQ(vs.signature_der, "signature over " + to_hex(r.root_hash));
    EXPECT_EQ(vs.certificate_fingerprint_hex, std::string(64, 'f'));
}

// The layout older releases wrote: a usr partition, which systemd mounts at
// /usr, so an extension tree in it is never merged. Readers name the reason.
TEST(DiskImage, UsrPartitionIsNamedAsUnmergeable) {
    TempDir dir;
    write_data(dir / "demo.raw", 300);
    int calls = 0;
    make(dir / "demo.raw", dir / "disk.raw", &calls, Designator::Usr);
    Fd disk = open_or_throw(dir / "disk.raw", O_RDONLY);
    GptDisk gpt = read_gpt(disk.get(), std::filesystem::file_size(dir / "disk.raw"), "disk");
    DataPartitions parts = find_data_partitions(gpt, "disk");
    EXPECT_EQ(parts.data_name(), "usr-arm64");
    EXPECT_EQ(usr_partition_problem(parts, "disk"),
              "disk: the tree is in a usr-arm64 partition, which systemd mounts at /usr, so "
              "usr/lib/extension-release.d/ would be /usr/usr/lib/extension-release.d/ and "
              "systemd-sysext cannot merge the image (disk images of system extensions use root "
              "partitions; sign the image again)");
}

TEST(DiskImage, SameInputSameBytesAndNothingOnFailure) {
    TempDir dir;
    write_data(dir / "demo.raw", 40);
    int calls = 0;
    make(dir / "demo.raw", dir / "a.raw", &calls);
    make(dir / "demo.raw", dir / "b.raw", &calls);
    EXPECT_EQ(read_file(dir / "a.raw"), read_file(dir / "b.raw"));

    Fd fd = open_or_throw(dir / "demo.raw", O_RDONLY);
    DdiRequest req{{fd.get(), 0, 40 * 4096, "demo.raw"},
                   dir / "c.raw",
                   "x86-64",
                   "demo",
                   "salt",
                   [](std::string_view) -> std::string { throw_input("token removed"); },
                   ""};
    EXPECT_THROW(write_ddi(req, null_reporter()), Error);
    EXPECT_FALSE(std::filesystem::exists(dir / "c.raw"));
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
        EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

} // namespace sysext::ddi

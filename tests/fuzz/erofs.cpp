// EROFS images as inspect, verify, sign and publish read them (our own
// hostile-image reader, through the format-neutral entry point): read_image
// on the bytes as a file, then read_image_file on the release file and on the
// first regular files listed, and read_image_dir on the release directory.
// The superblock's CRC-32C stops nearly every mutation of block 0 at the first
// check, so each input runs twice: as it is, and with the checksum made right.
#include "fuzz_util.hpp"

#include "sysext/erofs/format.hpp"
#include "sysext/erofs/reader.hpp"
#include "sysext/image/reader.hpp"
#include "sysext/util/endian.hpp"
#include "sysext/util/fd.hpp"

#include <fcntl.h>

namespace {

// The bytes with the checksum of their first 4 KiB block made right, or
// unchanged when they hold no superblock asking for one.
std::string fix_checksum(std::string image) {
    using namespace sysext::erofs;
    if (image.size() < k_block)
        return image;
    auto* sb = reinterpret_cast<uint8_t*>(image.data()) + k_super_offset;
    if (sysext::get_le(sb, 4) != k_magic || !(sysext::get_le(sb + 8, 4) & k_compat_sb_chksum))
        return image;
    sysext::put_le(sb + 4, 0, 4);
    sysext::put_le(sb + 4, crc32c(0xFFFFFFFFu, sb, k_block - k_super_offset), 4);
    return image;
}

void read_all(const std::string& path) {
    using namespace sysext;
    fuzz::refusal_expected([&] {
        image::ImageListing listing = erofs::read_image(path);
        fuzz::refusal_expected([&] {
            image::read_image_file(path, "usr/lib/extension-release.d/extension-release.image",
                                   1 << 20);
        });
        fuzz::refusal_expected([&] {
            Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
            image::read_image_dir(fd.get(), path, "usr/lib/extension-release.d", 0, 0);
        });
        int files = 0;
        for (const auto& e : listing.entries) {
            if (e.type != 'f' || ++files > 8)
                continue;
            fuzz::refusal_expected([&] { erofs::read_image_file(path, e.path, 1 << 20); });
        }
    });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    const std::string input(fuzz::bytes(data, size));
    read_all(fuzz::write_input("image.raw", input));
    const std::string fixed = fix_checksum(input);
    if (fixed != input)
        read_all(fuzz::write_input("image.raw", fixed));
    return 0;
}

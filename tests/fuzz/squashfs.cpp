// Squashfs images as inspect, verify and publish read them (the hostile-image
// reader on libsquashfs): read_image on the bytes as a file, then
// read_image_file on the release file and on the first regular files listed.
#include "fuzz_util.hpp"

#include "sysext/squashfs/reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    const std::string path = fuzz::write_input("image.raw", fuzz::bytes(data, size));
    fuzz::refusal_expected([&] {
        squashfs::ImageListing listing = squashfs::read_image(path);
        fuzz::refusal_expected([&] {
            squashfs::read_image_file(path, "usr/lib/extension-release.d/extension-release.image",
                                      1 << 20);
        });
        int files = 0;
        for (const auto& e : listing.entries) {
            if (e.type != 'f' || ++files > 8)
                continue;
            fuzz::refusal_expected([&] { squashfs::read_image_file(path, e.path, 1 << 20); });
        }
    });
    return 0;
}

// EROFS images as inspect, verify, sign and publish read them (our own
// hostile-image reader, through the format-neutral entry point): read_image
// on the bytes as a file, then read_image_file on the release file and on the
// first regular files listed, and read_image_dir on the release directory.
#include "fuzz_util.hpp"

#include "sysext/erofs/reader.hpp"
#include "sysext/image/reader.hpp"
#include "sysext/util/fd.hpp"

#include <fcntl.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    const std::string path = fuzz::write_input("image.raw", fuzz::bytes(data, size));
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
    return 0;
}

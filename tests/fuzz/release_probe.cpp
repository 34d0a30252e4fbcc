// The extension-release probe sign and verify run on a squashfs (bare, or a
// disk image's data partition): find_extension_release on the bytes as a
// file, for an image named "image" and one named "image_1+x" (whose release
// file may also be extension-release.image), then the values read from it.
#include "fuzz_util.hpp"

#include "sysext/util/fd.hpp"
#include "sysext/verity/release_probe.hpp"

#include <fcntl.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    const std::string path = fuzz::write_input("image.raw", fuzz::bytes(data, size));
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    const verity::Region region{fd.get(), 0, size, path};
    for (const char* name : {"image", "image_1+x"}) {
        fuzz::refusal_expected([&] {
            verity::ExtensionRelease release = verity::find_extension_release(region, name);
            release.value("ID");
            release.value("ARCHITECTURE");
        });
    }
    return 0;
}

// Debian Release files (the text gpgv verified out of InRelease): parse_release
// on the bytes, then the Valid-Until check against a fixed time.
#include "fuzz_util.hpp"

#include "sysext/source/debian_release.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    fuzz::refusal_expected([&] {
        auto release = source::parse_release(std::string(fuzz::bytes(data, size)), "InRelease");
        source::check_valid_until(release, 1'750'000'000, "InRelease");
    });
    return 0;
}

// Base system lists (--base-list, a profile's base_system): parse_base_system
// on the bytes, either a `dpkg-query -W` listing or a dpkg status file.
#include "fuzz_util.hpp"

#include "sysext/source/debian_packages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    fuzz::refusal_expected(
        [&] { source::parse_base_system(std::string(fuzz::bytes(data, size)), "base-list"); });
    return 0;
}

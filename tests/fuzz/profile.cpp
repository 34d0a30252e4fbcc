// Profiles (profiles/README.md): the bytes as a profile's JSON text, through
// profile::parse (JSON with size and depth limits, the line map for messages,
// every key and type checked), then expand() on the strings a build expands.
#include "fuzz_util.hpp"

#include "sysext/profile/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    fuzz::refusal_expected([&] {
        profile::Profile p = profile::parse(std::string(fuzz::bytes(data, size)), "fuzz.json");
        const std::map<std::string, std::string> vars{{"version", "5.4.2"}, {"arch", "x86-64"}};
        for (const auto& f : p.files)
            fuzz::refusal_expected([&] { profile::expand(f.content, vars, f.origin); });
        for (const auto& l : p.symlinks)
            fuzz::refusal_expected([&] { profile::expand(l.target, vars, l.origin); });
        for (const auto& target : p.targets)
            for (const auto& release : target.second.release)
                fuzz::refusal_expected(
                    [&] { profile::expand(release.second, vars, target.second.origin); });
    });
    return 0;
}

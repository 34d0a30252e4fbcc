// extension-release files (os-release syntax): release::parse on the bytes,
// then what sign, verify and inspect do with the pairs: to_fields and check.
// Fields that pass the check must render to a file that parses back to them:
// pack writes such files from flags, and systemd reads them.
#include "fuzz_util.hpp"

#include "sysext/release/release.hpp"

#include <cstdlib>

namespace {

bool same(const sysext::release::Fields& a, const sysext::release::Fields& b) {
    return a.os_id == b.os_id && a.version_id == b.version_id && a.sysext_level == b.sysext_level &&
           a.architecture == b.architecture && a.reload_manager == b.reload_manager &&
           a.scope == b.scope && a.extra == b.extra;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    release::Fields fields;
    try {
        fields =
            release::to_fields(release::parse(fuzz::bytes(data, size), "extension-release.fuzz"));
    } catch (const Error&) {
        return 0;
    }
    if (!release::check(fields, "fuzz").empty())
        return 0;
    // An empty value is written as no line at all, which os-release reads the same.
    std::erase_if(fields.extra, [](const auto& kv) { return kv.second.empty(); });
    // Not refusal_expected: a checked release that does not read back is a finding.
    if (!same(release::to_fields(release::parse(release::render(fields), "rendered")), fields))
        std::abort();
    return 0;
}

// What a payload holds, for `inspect`: the header, the manifest (operations,
// partition info, signature area) and the signatures, as JSON and as text. It
// reads structure only and checks nothing cryptographic (that is verify's job),
// but it reports the signed range's SHA-256, the value offline signing signs.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace sysext::payload {

struct PayloadDescription {
    nlohmann::json data;
    // A readable summary; every operation listed when `all_operations`.
    std::string to_text(bool all_operations = false) const;
};

// Throws a Verify error naming the check when the header or manifest is unreadable.
PayloadDescription describe(const std::string& path);

// Whether the file starts with the payload magic "CrAU": for a general `inspect`
// that must tell payloads from images. Throws Io when the file cannot be read.
bool looks_like_payload(const std::string& path);

} // namespace sysext::payload

#include "sysext/ddi/uuid.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/sha256.hpp"

#include <algorithm>
#include <cstring>

namespace sysext::ddi {

namespace {
// GPT's mixed-endian layout: the first three fields (4, 2 and 2 bytes) are reversed.
constexpr int k_gpt_order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
} // namespace

Uuid Uuid::parse(std::string_view text) {
    std::string hex;
    for (size_t i = 0; i < text.size(); ++i) {
        bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_pos != (text[i] == '-'))
            throw_input("not a UUID: \"" + std::string(text) + "\"");
        if (!dash_pos)
            hex += text[i];
    }
    if (text.size() != 36)
        throw_input("not a UUID: \"" + std::string(text) + "\"");
    std::string raw = from_hex(hex);
    Uuid u;
    std::memcpy(u.bytes.data(), raw.data(), 16);
    return u;
}

Uuid Uuid::from_gpt_bytes(const uint8_t* p) {
    Uuid u;
    for (int i = 0; i < 16; ++i)
        u.bytes[static_cast<size_t>(k_gpt_order[i])] = p[i];
    return u;
}

std::array<uint8_t, 16> Uuid::to_gpt_bytes() const {
    std::array<uint8_t, 16> out{};
    for (int i = 0; i < 16; ++i)
        out[static_cast<size_t>(i)] = bytes[static_cast<size_t>(k_gpt_order[i])];
    return out;
}

std::string Uuid::to_string() const {
    std::string hex = to_hex(bytes.data(), bytes.size());
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20);
}

bool Uuid::is_null() const {
    return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

Uuid derive_uuid(std::string_view purpose, std::string_view seed) {
    Sha256 h;
    h.update("sysext-build uuid\n");
    h.update(purpose);
    h.update("\n");
    h.update(seed);
    Digest d = h.finish();
    Uuid u;
    std::memcpy(u.bytes.data(), d.data(), 16);
    u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0f) | 0x40); // version 4
    u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3f) | 0x80); // RFC 4122 variant
    return u;
}

} // namespace sysext::ddi

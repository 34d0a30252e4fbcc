// UUIDs as GPT stores them and as people (and systemd) write them.
//
// A Uuid holds its 16 bytes in the order of the text form ("8484680c-9521-..."),
// which is also how systemd compares partition UUIDs with root-hash bytes. GPT
// stores the first three fields little-endian (UEFI spec, "EFI_GUID"), so the
// on-disk form differs; to_gpt_bytes()/from_gpt_bytes() convert.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sysext::ddi {

struct Uuid {
    std::array<uint8_t, 16> bytes{};

    static Uuid parse(std::string_view text); // throws Input on a malformed UUID
    static Uuid from_gpt_bytes(const uint8_t* p);
    std::string to_string() const;
    std::array<uint8_t, 16> to_gpt_bytes() const;
    bool is_null() const;
    bool operator==(const Uuid&) const = default;
};

// A UUID derived from `seed` for `purpose` (SHA-256 of both, version 4 and variant
// bits set): the same image always gets the same disk and partition UUIDs.
Uuid derive_uuid(std::string_view purpose, std::string_view seed);

} // namespace sysext::ddi

// SHA-256 through OpenSSL's EVP interface.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sysext {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    void update(const void* data, size_t size);
    void update(std::string_view s) { update(s.data(), s.size()); }
    Digest finish();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

Digest sha256(const void* data, size_t size);
inline Digest sha256(std::string_view s) { return sha256(s.data(), s.size()); }
// SHA-256 of a file's whole content.
Digest sha256_file(const std::string& path);

std::string to_hex(const void* data, size_t size);
inline std::string to_hex(const Digest& d) { return to_hex(d.data(), d.size()); }
// Parses lowercase or uppercase hex; throws Input on a bad digit or odd length.
std::string from_hex(std::string_view hex);

} // namespace sysext

#include "sysext/util/sha256.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <vector>

namespace sysext {

struct Sha256::Impl {
    EVP_MD_CTX* ctx = nullptr;
    ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {
    m_impl->ctx = EVP_MD_CTX_new();
    if (m_impl->ctx == nullptr || EVP_DigestInit_ex(m_impl->ctx, EVP_sha256(), nullptr) != 1)
        throw Error(ErrorKind::Internal, "cannot initialise SHA-256");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t size) {
    if (EVP_DigestUpdate(m_impl->ctx, data, size) != 1)
        throw Error(ErrorKind::Internal, "SHA-256 update failed");
}

Digest Sha256::finish() {
    Digest d{};
    unsigned len = 0;
    if (EVP_DigestFinal_ex(m_impl->ctx, d.data(), &len) != 1 || len != d.size())
        throw Error(ErrorKind::Internal, "SHA-256 final failed");
    return d;
}

Digest sha256(const void* data, size_t size) {
    Sha256 h;
    h.update(data, size);
    return h.finish();
}

Digest sha256_file(const std::string& path) {
    Fd fd = open_or_throw(path, O_RDONLY);
    Sha256 h;
    std::vector<char> buf(1 << 20);
    while (size_t n = read_some(fd.get(), buf.data(), buf.size(), path))
        h.update(buf.data(), n);
    return h.finish();
}

std::string to_hex(const void* data, size_t size) {
    static const char digits[] = "0123456789abcdef";
    auto* p = static_cast<const uint8_t*>(data);
    std::string out(size * 2, '0');
    for (size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    return out;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0)
        throw_input("hex string has an odd number of digits");
    std::string out(hex.size() / 2, '\0');
    for (size_t i = 0; i < out.size(); ++i) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            throw_input("not a hex digit in \"" + std::string(hex) + "\"");
        out[i] = static_cast<char>(hi << 4 | lo);
    }
    return out;
}

} // namespace sysext

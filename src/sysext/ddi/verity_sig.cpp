#include "sysext/ddi/verity_sig.hpp"

#include "sysext/util/error.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>

namespace sysext::ddi {

namespace {

constexpr size_t k_pad_to = 4096;

std::string base64_encode(std::string_view raw) {
    std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(raw.data()),
                            static_cast<int>(raw.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string base64_decode(std::string_view text, const std::string& what) {
    if (text.empty() || text.size() % 4 != 0)
        throw_verify(what + ": the signature field is not base64");
    std::string out(3 * text.size() / 4, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0)
        throw_verify(what + ": the signature field is not base64");
    // EVP_DecodeBlock counts the bytes '=' padding stands for; drop them.
    size_t pad = static_cast<size_t>(std::count(text.end() - 2, text.end(), '='));
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

} // namespace

std::string encode_verity_signature(const VeritySignature& sig) {
    // nlohmann's default object is sorted by key, so the text never varies.
    nlohmann::json j = {{"rootHash", sig.root_hash_hex},
                        {"certificateFingerprint", sig.certificate_fingerprint_hex},
                        {"signature", base64_encode(sig.signature_der)}};
    std::string text = j.dump();
    text.resize((text.size() + k_pad_to) / k_pad_to * k_pad_to, '\0');
    return text;
}

VeritySignature decode_verity_signature(std::string_view content, const std::string& what) {
    size_t nul = content.find('\0');
    std::string_view text = content.substr(0, nul);
    if (nul != std::string_view::npos &&
        content.find_first_not_of('\0', nul) != std::string_view::npos)
        throw_verify(what + ": data after the JSON text is not all NUL bytes");
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw_verify(what + ": not a JSON object");
    auto field = [&](const char* key, bool required) -> std::string {
        auto it = j.find(key);
        if (it == j.end()) {
            if (required)
                throw_verify(what + ": no \"" + key + "\" field");
            return {};
        }
        if (!it->is_string())
            throw_verify(what + ": \"" + key + "\" is not a string");
        return it->get<std::string>();
    };
    VeritySignature sig;
    sig.root_hash_hex = field("rootHash", true);
    sig.certificate_fingerprint_hex = field("certificateFingerprint", false);
    sig.signature_der = base64_decode(field("signature", true), what);
    return sig;
}

} // namespace sysext::ddi

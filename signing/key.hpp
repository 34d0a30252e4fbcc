// Private and public keys for signing images and payloads.
//
// A private key is named by a reference: a PEM file path, or an OpenSSL store URI
// ("file:...", "pkcs11:..." when a PKCS#11 provider is configured). Every reference,
// plain paths included, is loaded through OSSL_STORE, so that the code path used for
// hardware tokens is the one the tests exercise with files. Key material never appears
// in messages: errors and descriptions name the reference (with any PIN removed) and
// the cause only.
#pragma once

#include "sysext/util/sha256.hpp"

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace sysext::signing {

struct KeySpec {
    std::string ref;                         // PEM file path, or an OSSL_STORE URI
    int passphrase_fd = -1;                  // read the passphrase from this fd, if >= 0
    std::string passphrase_env;              // or from this environment variable
    bool allow_insecure_permissions = false; // else a group/other-readable key file is refused
    // A passphrase already read (wins over fd and env): a descriptor can be
    // read only once, so several keys share one reading (PassphraseText).
    const std::string* passphrase_text = nullptr;
};

// A passphrase read once from a descriptor, for every key that takes it;
// wiped when destroyed. `ref` names the key in errors (redacted).
class PassphraseText {
public:
    static PassphraseText read_fd(int fd, const std::string& ref);
    PassphraseText(PassphraseText&& other) noexcept : m_text(std::move(other.m_text)) {}
    PassphraseText(const PassphraseText&) = delete;
    PassphraseText& operator=(const PassphraseText&) = delete;
    ~PassphraseText();
    const std::string& text() const { return m_text; }

private:
    PassphraseText() = default;
    std::string m_text;
};

struct EvpPkeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

class PrivateKey {
public:
    static PrivateKey load(const KeySpec& spec);
    // Takes ownership of a key that is already loaded (tests, generated keys).
    PrivateKey(EvpPkeyPtr key, std::string source);

    EVP_PKEY* get() const { return m_key.get(); }
    // "RSA-2048 key from keys/dev.pem": for messages and logs, never key material.
    std::string description() const;
    // The largest signature this key makes (EVP_PKEY_get_size): 256 for RSA-2048.
    size_t signature_size() const;

private:
    EvpPkeyPtr m_key;
    std::string m_source; // the reference, with any PIN removed
};

class PublicKey {
public:
    // SubjectPublicKeyInfo PEM ("PUBLIC KEY"), or the key of a PEM certificate.
    static PublicKey load_pem(const std::string& path);
    static PublicKey from_pem_text(std::string_view pem, const std::string& what);
    static PublicKey from_private(const PrivateKey& key);
    explicit PublicKey(EvpPkeyPtr key, std::string source);

    EVP_PKEY* get() const { return m_key.get(); }
    std::string description() const;
    // The key as SubjectPublicKeyInfo PEM text.
    std::string to_pem() const;

private:
    EvpPkeyPtr m_key;
    std::string m_source;
};

// Signatures over a SHA-256 digest computed by the caller: RSASSA-PKCS1-v1_5 with the
// SHA-256 DigestInfo for RSA keys (what `openssl pkeyutl -sign -pkeyopt digest:sha256`
// and `openssl dgst -sha256 -sign` make), DER-encoded ECDSA for EC keys.
std::string sign_sha256_digest(const PrivateKey& key, const sysext::Digest& digest);
bool verify_sha256_digest(const PublicKey& key, const sysext::Digest& digest,
                          std::string_view signature);

// "RSA-2048", "EC P-256", "ED25519": the key's algorithm and size, for messages.
std::string key_kind(const EVP_PKEY* key);
// The reasons OpenSSL queued for the last failure ("bad decrypt; ..."), emptying the
// queue; "unknown OpenSSL error" when none. Never contains key material.
std::string take_openssl_errors();
// A key reference fit for messages: a PKCS#11 URI loses its query ("?pin-value=...").
std::string redact_key_ref(std::string_view ref);

} // namespace sysext::signing

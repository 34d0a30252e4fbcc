// Loading keys through OSSL_STORE, and SHA-256 digest signatures.
//
// Plain paths, "file:" URIs and provider URIs ("pkcs11:...") all take the same
// OSSL_STORE path. A passphrase (or token PIN) comes from a file descriptor or an
// environment variable, never from the command line, and is wiped after use.
#include "signing/key.hpp"

#include "signing/bio.hpp"
#include "signing/certificate.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <openssl/x509.h>

namespace sysext::signing {

namespace {

struct StoreCloser {
    void operator()(OSSL_STORE_CTX* c) const { OSSL_STORE_close(c); }
};
struct StoreInfoFree {
    void operator()(OSSL_STORE_INFO* i) const { OSSL_STORE_INFO_free(i); }
};
struct UiMethodFree {
    void operator()(UI_METHOD* m) const { UI_destroy_method(m); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

// The passphrase, held only while the key loads, wiped on destruction.
class Passphrase {
public:
    explicit Passphrase(const KeySpec& spec) {
        if (spec.passphrase_text != nullptr) {
            m_given = true;
            m_text = *spec.passphrase_text;
        } else if (spec.passphrase_fd >= 0) {
            m_given = true;
            m_text = PassphraseText::read_fd(spec.passphrase_fd, spec.ref).text();
        } else if (!spec.passphrase_env.empty()) {
            m_given = true;
            const char* value = std::getenv(spec.passphrase_env.c_str());
            if (value == nullptr)
                throw_input(redact_key_ref(spec.ref) + ": passphrase variable " +
                            spec.passphrase_env + " is not set");
            m_text = value;
        }
    }
    Passphrase(const Passphrase&) = delete;
    Passphrase& operator=(const Passphrase&) = delete;
    ~Passphrase() { OPENSSL_cleanse(m_text.data(), m_text.size()); }

    // pem_password_cb: OpenSSL asks when (and only when) the key is encrypted.
    static int callback(char* buf, int size, int /*rwflag*/, void* self_ptr) {
        auto* self = static_cast<Passphrase*>(self_ptr);
        self->m_asked = true;
        if (!self->m_given || size <= 0 || self->m_text.size() > static_cast<size_t>(size))
            return -1;
        std::memcpy(buf, self->m_text.data(), self->m_text.size());
        return static_cast<int>(self->m_text.size());
    }
    bool given() const { return m_given; }
    bool asked() const { return m_asked; }

private:
    std::string m_text;
    bool m_given = false;
    bool m_asked = false;
};

} // namespace

PassphraseText PassphraseText::read_fd(int fd, const std::string& ref) {
    const std::string what =
        redact_key_ref(ref) + ": cannot read the passphrase from fd " + std::to_string(fd);
    PassphraseText p;
    char buf[1024];
    while (size_t n = read_some(fd, buf, sizeof buf, what))
        p.m_text.append(buf, n);
    OPENSSL_cleanse(buf, sizeof buf);
    // A passphrase file or `echo` ends in a newline that is not part of it.
    while (!p.m_text.empty() && (p.m_text.back() == '\n' || p.m_text.back() == '\r'))
        p.m_text.pop_back();
    return p;
}

PassphraseText::~PassphraseText() { OPENSSL_cleanse(m_text.data(), m_text.size()); }

namespace {

// "scheme:..." (RFC 3986) marks a URI; anything else is a file path.
bool is_uri(const std::string& ref) {
    auto colon = ref.find(':');
    if (colon == std::string::npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(ref[0])))
        return false;
    for (size_t i = 1; i < colon; ++i) {
        char c = ref[i];
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
            return false;
    }
    return true;
}

// The file a reference names, or "" when it names something else (a token).
std::string file_of_ref(const std::string& ref) {
    struct stat st {};
    if (!is_uri(ref) || ::stat(ref.c_str(), &st) == 0)
        return ref;
    if (ref.rfind("file:", 0) != 0)
        return "";
    std::string rest = ref.substr(5);
    if (rest.rfind("//", 0) == 0) {
        // file://host/path: only an empty host or localhost names a local file.
        auto slash = rest.find('/', 2);
        rest = slash == std::string::npos ? "" : rest.substr(slash);
    }
    std::string path;
    for (size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '%' && i + 2 < rest.size()) {
            path += static_cast<char>(std::strtol(rest.substr(i + 1, 2).c_str(), nullptr, 16));
            i += 2;
        } else {
            path += rest[i];
        }
    }
    return path;
}

// Also makes a missing key file fail with the system's reason, not OpenSSL's.
void check_permissions(const KeySpec& spec) {
    std::string path = file_of_ref(spec.ref);
    if (path.empty())
        return;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw_errno(path == spec.ref ? path : spec.ref + ": " + path);
    if (!spec.allow_insecure_permissions && S_ISREG(st.st_mode) &&
        (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw_input(path + ": private key file is readable by group or others (mode " + mode +
                    "); run chmod 600 on it, or allow insecure key permissions explicitly");
    }
}

// A provider named by the URI scheme is loaded on demand, keeping the default
// provider, in case openssl.cnf does not load it already.
void load_provider_for(const std::string& ref) {
    if (ref.rfind("pkcs11:", 0) == 0) {
        OSSL_PROVIDER_try_load(nullptr, "pkcs11", 1);
        ERR_clear_error();
    }
}

} // namespace

std::string take_openssl_errors() {
    std::string out;
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        std::string text;
        if (ERR_SYSTEM_ERROR(code)) {
            text = std::strerror(static_cast<int>(ERR_GET_REASON(code)));
        } else if (const char* reason = ERR_reason_error_string(code)) {
            text = reason;
        } else {
            char buf[256];
            ERR_error_string_n(code, buf, sizeof buf);
            text = buf;
        }
        if (out.find(text) != std::string::npos)
            continue;
        if (!out.empty())
            out += "; ";
        out += text;
    }
    return out.empty() ? "unknown OpenSSL error" : out;
}

std::string redact_key_ref(std::string_view ref) {
    if (ref.rfind("pkcs11:", 0) != 0)
        return std::string(ref);
    // RFC 7512 puts the PIN in the query ("?pin-value=..."), which goes whole;
    // a PIN written into the path (";pin-value=...", "pin-source") goes too.
    std::string_view path = ref.substr(0, ref.find('?'));
    std::string out = "pkcs11:";
    bool first = true;
    for (const auto& attr : split(path.substr(7), ';')) {
        if (attr.rfind("pin-", 0) == 0)
            continue;
        out += (first ? "" : ";") + attr;
        first = false;
    }
    return out;
}

namespace {

// Error text from OpenSSL may quote the URI it was given: every PIN value in
// `ref` is blanked out of `text` before it reaches a message.
std::string without_pins(std::string text, std::string_view ref) {
    for (size_t at = ref.find("pin-value="); at != std::string_view::npos;
         at = ref.find("pin-value=", at + 1)) {
        const size_t from = at + 10;
        const std::string pin(ref.substr(from, ref.find_first_of(";&?", from) - from));
        if (pin.empty())
            continue;
        for (size_t p = text.find(pin); p != std::string::npos; p = text.find(pin, p))
            text.replace(p, pin.size(), "(pin)");
    }
    return text;
}

} // namespace

std::string key_kind(const EVP_PKEY* key) {
    if (EVP_PKEY_is_a(key, "RSA"))
        return "RSA-" + std::to_string(EVP_PKEY_get_bits(key));
    if (EVP_PKEY_is_a(key, "EC")) {
        char group[64] = {};
        size_t len = 0;
        if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1)
            return std::string("EC ") + group;
        return "EC";
    }
    const char* name = EVP_PKEY_get0_type_name(key);
    return name != nullptr ? name : "unknown";
}

PrivateKey::PrivateKey(EvpPkeyPtr key, std::string source)
    : m_key(std::move(key)), m_source(redact_key_ref(source)) {}

PrivateKey PrivateKey::load(const KeySpec& spec) {
    const std::string shown = redact_key_ref(spec.ref);
    if (spec.ref.empty())
        throw_usage("no private key given");
    check_permissions(spec);
    load_provider_for(spec.ref);
    Passphrase passphrase(spec);
    std::unique_ptr<UI_METHOD, UiMethodFree> ui(
        UI_UTIL_wrap_read_pem_callback(&Passphrase::callback, 0));
    if (!ui)
        throw Error(ErrorKind::Internal, shown + ": cannot set up the passphrase prompt");

    ERR_clear_error();
    std::unique_ptr<OSSL_STORE_CTX, StoreCloser> store(OSSL_STORE_open_ex(
        spec.ref.c_str(), nullptr, nullptr, ui.get(), &passphrase, nullptr, nullptr, nullptr));
    if (!store) {
        std::string cause = without_pins(take_openssl_errors(), spec.ref);
        if (is_uri(spec.ref) && spec.ref.rfind("file:", 0) != 0)
            cause += "; is an OpenSSL provider for " + spec.ref.substr(0, spec.ref.find(':')) +
                     ": URIs installed and configured in openssl.cnf?";
        throw_input(shown + ": cannot open the key (" + cause + ")");
    }
    OSSL_STORE_expect(store.get(), OSSL_STORE_INFO_PKEY);

    EvpPkeyPtr key;
    while (!key && !OSSL_STORE_eof(store.get())) {
        std::unique_ptr<OSSL_STORE_INFO, StoreInfoFree> info(OSSL_STORE_load(store.get()));
        if (!info)
            continue; // an object the store could not decode; a later one may be the key
        if (OSSL_STORE_INFO_get_type(info.get()) == OSSL_STORE_INFO_PKEY)
            key.reset(OSSL_STORE_INFO_get1_PKEY(info.get()));
    }
    if (!key) {
        if (passphrase.asked() && !passphrase.given())
            throw_input(shown + ": the key is encrypted and no passphrase was given");
        if (passphrase.asked())
            throw_input(shown + ": cannot decrypt the key (wrong passphrase?): " +
                        without_pins(take_openssl_errors(), spec.ref));
        std::string cause = ERR_peek_error() != 0 ? without_pins(take_openssl_errors(), spec.ref)
                                                  : "no private key found";
        throw_input(shown + ": cannot load a private key (" + cause + ")");
    }
    ERR_clear_error();
    return PrivateKey(std::move(key), spec.ref);
}

std::string PrivateKey::description() const {
    return key_kind(m_key.get()) + " key from " + m_source;
}

size_t PrivateKey::signature_size() const {
    int size = EVP_PKEY_get_size(m_key.get());
    return size > 0 ? static_cast<size_t>(size) : 0;
}

PublicKey::PublicKey(EvpPkeyPtr key, std::string source)
    : m_key(std::move(key)), m_source(std::move(source)) {}

PublicKey PublicKey::from_pem_text(std::string_view pem, const std::string& what) {
    ERR_clear_error();
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio)
        throw Error(ErrorKind::Internal, what + ": cannot allocate a buffer");
    EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key) {
        // Not a bare public key: perhaps a certificate carrying one.
        BIO_reset(bio.get());
        X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (cert)
            key.reset(X509_get_pubkey(cert.get()));
    }
    if (!key) {
        ERR_clear_error();
        throw_input(what + ": not a PEM public key or certificate");
    }
    ERR_clear_error();
    return PublicKey(std::move(key), what);
}

PublicKey PublicKey::load_pem(const std::string& path) {
    return from_pem_text(read_file(path), path);
}

PublicKey PublicKey::from_private(const PrivateKey& key) {
    // Round-trip through SubjectPublicKeyInfo: it keeps the public half only, and works
    // for provider keys whose private half never leaves the token.
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key.get(), &der);
    if (len <= 0)
        throw_input(key.description() + ": cannot export the public key (" +
                    take_openssl_errors() + ")");
    const unsigned char* p = der;
    EvpPkeyPtr pub(d2i_PUBKEY(nullptr, &p, len));
    OPENSSL_free(der);
    if (!pub)
        throw_input(key.description() + ": cannot read back the public key (" +
                    take_openssl_errors() + ")");
    return PublicKey(std::move(pub), "the public half of the " + key.description());
}

std::string PublicKey::description() const {
    return key_kind(m_key.get()) + " public key from " + m_source;
}

std::string PublicKey::to_pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), m_key.get()) != 1)
        throw Error(ErrorKind::Internal, "cannot write a public key as PEM");
    return bio_text(bio.get());
}

namespace {

// Both directions set the same parameters: PKCS#1 v1.5 padding for RSA (the
// DigestInfo names SHA-256), and SHA-256 as the digest for every algorithm.
void set_digest_params(EVP_PKEY_CTX* ctx, EVP_PKEY* key, const std::string& what) {
    if (EVP_PKEY_is_a(key, "RSA") &&
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)
        throw_input(what + ": cannot select PKCS#1 v1.5 padding (" + take_openssl_errors() + ")");
    if (EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)
        throw_input(what + ": the key cannot sign SHA-256 digests (" + take_openssl_errors() +
                    ")");
}

} // namespace

std::string sign_sha256_digest(const PrivateKey& key, const sysext::Digest& digest) {
    const std::string what = key.description();
    ERR_clear_error();
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
        EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1)
        throw_input(what + ": cannot sign with this key (" + take_openssl_errors() + ")");
    set_digest_params(ctx.get(), key.get(), what);
    size_t len = 0;
    if (EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1)
        throw_input(what + ": cannot size the signature (" + take_openssl_errors() + ")");
    std::string sig(len, '\0');
    if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                      digest.data(), digest.size()) != 1)
        throw_input(what + ": signing failed (" + take_openssl_errors() + ")");
    sig.resize(len);
    return sig;
}

bool verify_sha256_digest(const PublicKey& key, const sysext::Digest& digest,
                          std::string_view signature) {
    ERR_clear_error();
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
        EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1)
        throw_input(key.description() + ": cannot verify with this key (" +
                    take_openssl_errors() + ")");
    set_digest_params(ctx.get(), key.get(), key.description());
    int rc = EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), digest.data(), digest.size());
    // A mismatch queues errors that mean nothing more than "no".
    ERR_clear_error();
    return rc == 1;
}

} // namespace sysext::signing

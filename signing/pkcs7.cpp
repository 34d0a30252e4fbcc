#include "signing/pkcs7.hpp"

#include "signing/bio.hpp"
#include "sysext/util/error.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>

#include <memory>

namespace sysext::signing {

namespace {

struct X509StackDeleter {
    void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};

BioPtr memory_bio(std::string_view data) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (!bio)
        throw Error(ErrorKind::Internal, "cannot allocate a memory BIO");
    return bio;
}

// OpenSSL's queued reasons, for messages; they never contain key material.
std::string openssl_reasons() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        const char* reason = ERR_reason_error_string(e);
        if (!out.empty())
            out += "; ";
        out += reason ? reason : "unknown OpenSSL error";
    }
    return out.empty() ? "unknown OpenSSL error" : out;
}

// The DER that pkcs7_sign_detached would make with `cert`, carrying the
// signature value of `received`.
std::string canonical_form(PKCS7* received, const Certificate& cert) {
    STACK_OF(PKCS7_SIGNER_INFO)* infos = PKCS7_get_signer_info(received);
    if (!infos || sk_PKCS7_SIGNER_INFO_num(infos) != 1)
        return {};
    ASN1_OCTET_STRING* value = sk_PKCS7_SIGNER_INFO_value(infos, 0)->enc_digest;
    Pkcs7Ptr p7(PKCS7_new());
    if (!p7 || !PKCS7_set_type(p7.get(), NID_pkcs7_signed) ||
        !PKCS7_content_new(p7.get(), NID_pkcs7_data))
        throw Error(ErrorKind::Internal, "cannot build a PKCS#7 structure");
    PKCS7_SIGNER_INFO* si =
        PKCS7_add_signature(p7.get(), cert.get(), X509_get0_pubkey(cert.get()), EVP_sha256());
    if (!si || !PKCS7_add_certificate(p7.get(), cert.get()) ||
        !ASN1_STRING_set(si->enc_digest, value->data, value->length) ||
        !PKCS7_set_detached(p7.get(), 1))
        throw Error(ErrorKind::Internal, "cannot build a PKCS#7 structure");
    unsigned char* der = nullptr;
    int n = i2d_PKCS7(p7.get(), &der);
    ERR_clear_error();
    if (n <= 0)
        return {};
    std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
    return out;
}

} // namespace

std::string pkcs7_sign_detached(EVP_PKEY* key, const std::string& key_description,
                                const Certificate& cert, std::string_view content) {
    if (!cert.matches(key))
        throw_input(cert.source() + ": certificate does not belong to " + key_description);
    const int flags = PKCS7_DETACHED | PKCS7_BINARY | PKCS7_NOATTR | PKCS7_PARTIAL;
    Pkcs7Ptr p7(PKCS7_sign(nullptr, nullptr, nullptr, nullptr, flags));
    if (!p7 || !PKCS7_sign_add_signer(p7.get(), cert.get(), key, EVP_sha256(), flags))
        throw Error(ErrorKind::Input,
                    "cannot sign with " + key_description + ": " + openssl_reasons());
    BioPtr data = memory_bio(content);
    if (PKCS7_final(p7.get(), data.get(), flags) != 1)
        throw Error(ErrorKind::Input,
                    "signing with " + key_description + " failed: " + openssl_reasons());
    unsigned char* der = nullptr;
    int n = i2d_PKCS7(p7.get(), &der);
    if (n <= 0)
        throw Error(ErrorKind::Internal, "cannot encode the PKCS#7 signature");
    std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
    return out;
}

void pkcs7_verify_detached(std::string_view der, std::string_view content, const Certificate& cert,
                           const std::string& what) {
    auto* p = reinterpret_cast<const unsigned char*>(der.data());
    Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    if (!p7 || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
        ERR_clear_error();
        throw_verify(what + ": not a DER PKCS#7 signature");
    }
    if (!PKCS7_type_is_signed(p7.get()) || !PKCS7_get_detached(p7.get()))
        throw_verify(what + ": not a detached PKCS#7 signature");
    std::unique_ptr<STACK_OF(X509), X509StackDeleter> certs(sk_X509_new_null());
    if (!certs || !sk_X509_push(certs.get(), cert.get()))
        throw Error(ErrorKind::Internal, "cannot allocate a certificate list");
    // OpenSSL 3.0's PKCS7_verify copies a memory BIO into a temporary one and
    // leaks it when the structure is damaged; a buffering filter on top avoids
    // that path.
    BioPtr mem = memory_bio(content);
    BioPtr data(BIO_new(BIO_f_buffer()));
    if (!data)
        throw Error(ErrorKind::Internal, "cannot allocate a buffer BIO");
    BIO_push(data.get(), mem.get());
    struct Unchain {
        BIO* top;
        ~Unchain() { BIO_pop(top); }
    } unchain{data.get()};
    if (PKCS7_verify(p7.get(), certs.get(), nullptr, data.get(), nullptr,
                     PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_BINARY) != 1)
        throw_verify(what + ": signature does not verify with " + cert.source() +
                     " over the root hash (" + openssl_reasons() + ")");
    // PKCS7_verify ignores parts of the structure (the embedded certificate with
    // NOINTERN, versions, algorithm parameters). Insist on exactly the structure
    // pkcs7_sign_detached makes, so that no byte of a signature file goes unchecked.
    if (canonical_form(p7.get(), cert) != der)
        throw_verify(what + ": verifies, but is not in the canonical form (a changed "
                            "certificate, version or parameter field)");
}

} // namespace sysext::signing

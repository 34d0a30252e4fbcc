#include "sysext/inspect/signature.hpp"

#include "signing/bio.hpp"
#include "signing/pkcs7.hpp"
#include "sysext/util/error.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>

#include <memory>
#include <optional>

namespace sysext::inspect {

namespace {

// The first certificate carried in the signature (ours carry exactly the
// signer's), as a Certificate; nullopt when there is none or it is unreadable.
std::optional<signing::Certificate> embedded_certificate(std::string_view der) {
    auto* p = reinterpret_cast<const unsigned char*>(der.data());
    signing::Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    if (!p7 || !PKCS7_type_is_signed(p7.get()) || p7->d.sign == nullptr ||
        p7->d.sign->cert == nullptr || sk_X509_num(p7->d.sign->cert) < 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    signing::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), sk_X509_value(p7->d.sign->cert, 0)) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    try {
        return signing::Certificate::from_pem_text(signing::bio_text(bio.get()),
                                                   "the signature's embedded certificate");
    } catch (const Error&) {
        return std::nullopt;
    }
}

} // namespace

SignatureStatus check_signature(std::string_view der, const std::string& root_hash_hex,
                                const signing::Certificate* trusted, const std::string& what) {
    SignatureStatus s;
    std::optional<signing::Certificate> signer = embedded_certificate(der);
    if (signer) {
        s.subject = signer->subject();
        s.fingerprint = signer->fingerprint_sha256();
    }
    try {
        if (trusted != nullptr) {
            signing::pkcs7_verify_detached(der, root_hash_hex, *trusted, what);
            s.status = "trusted";
            s.detail = "verifies with " + trusted->source() + " (" + trusted->subject() + ")";
        } else if (signer) {
            signing::pkcs7_verify_detached(der, root_hash_hex, *signer, what);
            s.status = "valid";
            s.detail = "verifies with its embedded certificate; trust not checked (no --cert)";
        } else {
            s.status = "invalid";
            s.detail = what + ": no readable signer certificate in the signature";
        }
    } catch (const Error& e) {
        s.status = "invalid";
        s.detail = e.what();
    }
    return s;
}

} // namespace sysext::inspect

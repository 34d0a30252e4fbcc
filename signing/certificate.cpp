#include "signing/certificate.hpp"

#include "signing/bio.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

namespace sysext::signing {

Certificate::Certificate(X509Ptr cert, std::string source)
    : m_cert(std::move(cert)), m_source(std::move(source)) {}

Certificate Certificate::from_pem_text(const std::string& text, const std::string& what) {
    BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!bio)
        throw Error(ErrorKind::Internal, "cannot allocate a memory BIO");
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
        // Not PEM: try DER.
        ERR_clear_error();
        auto* p = reinterpret_cast<const unsigned char*>(text.data());
        cert.reset(d2i_X509(nullptr, &p, static_cast<long>(text.size())));
    }
    ERR_clear_error();
    if (!cert)
        throw_input(what + ": not an X.509 certificate (PEM or DER)");
    return Certificate(std::move(cert), what);
}

Certificate Certificate::load(const std::string& path) {
    return from_pem_text(read_file(path), path);
}

std::string Certificate::der() const {
    unsigned char* buf = nullptr;
    int n = i2d_X509(m_cert.get(), &buf);
    if (n < 0)
        throw Error(ErrorKind::Internal, m_source + ": cannot encode the certificate as DER");
    std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
    OPENSSL_free(buf);
    return out;
}

std::string Certificate::fingerprint_sha256() const {
    return to_hex(sha256(der()));
}

std::string Certificate::subject() const {
    char buf[512];
    X509_NAME_oneline(X509_get_subject_name(m_cert.get()), buf, sizeof buf);
    return buf;
}

bool Certificate::matches(EVP_PKEY* key) const {
    EVP_PKEY* pub = X509_get0_pubkey(m_cert.get());
    bool ok = pub != nullptr && EVP_PKEY_eq(pub, key) == 1;
    ERR_clear_error();
    return ok;
}

} // namespace sysext::signing

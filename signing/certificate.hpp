// X.509 certificates that name who signed a verity root hash.
#pragma once

#include <openssl/x509.h>

#include <memory>
#include <string>

namespace sysext::signing {

struct X509Deleter {
    void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

class Certificate {
public:
    // A PEM ("BEGIN CERTIFICATE") or DER file. Throws Input naming the path.
    static Certificate load(const std::string& path);
    static Certificate from_pem_text(const std::string& pem, const std::string& what);

    X509* get() const { return m_cert.get(); }
    const std::string& source() const { return m_source; }
    std::string der() const;
    // Lowercase hex SHA-256 of the DER form, as in a verity signature partition.
    std::string fingerprint_sha256() const;
    std::string subject() const;
    // Whether the certificate's public key is the public half of `key`.
    bool matches(EVP_PKEY* key) const;

private:
    Certificate(X509Ptr cert, std::string source);
    X509Ptr m_cert;
    std::string m_source;
};

} // namespace sysext::signing

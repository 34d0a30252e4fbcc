// Detached PKCS#7 signatures over a verity root hash, as systemd and the kernel
// check them.
//
// The signed content is the lowercase hex root hash with no newline; the
// signature is DER SignedData without the content, with the signer's certificate
// and without signed attributes (no signing time), so that an RSA key signs the
// same root hash to the same bytes every time. systemd's userspace check is
// PKCS7_verify(NOINTERN|NOVERIFY) against certificates from /etc/verity.d: the
// signer must be one of the given certificates, no chain is built.
#pragma once

#include "signing/certificate.hpp"

#include <openssl/evp.h>
#include <openssl/pkcs7.h>

#include <memory>
#include <string>
#include <string_view>

namespace sysext::signing {

struct Pkcs7Deleter {
    void operator()(PKCS7* p) const { PKCS7_free(p); }
};
using Pkcs7Ptr = std::unique_ptr<PKCS7, Pkcs7Deleter>;

// Signs `content` with `key`, naming `cert` as signer (SHA-256 digest). Throws
// Input when the certificate is not the key's, naming both sources.
std::string pkcs7_sign_detached(EVP_PKEY* key, const std::string& key_description,
                                const Certificate& cert, std::string_view content);

// Checks a DER signature over `content` made by `cert`'s key. Throws a Verify error
// naming `what` and the cause (not PKCS#7, other signer, content mismatch).
void pkcs7_verify_detached(std::string_view der, std::string_view content, const Certificate& cert,
                           const std::string& what);

} // namespace sysext::signing

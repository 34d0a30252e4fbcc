// OpenSSL memory BIOs, through which keys, certificates and signatures are
// encoded and decoded: an owner, and the bytes written to one.
#pragma once

#include <openssl/bio.h>

#include <memory>
#include <string>

namespace sysext::signing {

struct BioDeleter {
    void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

// Everything written so far to a memory BIO (BIO_s_mem).
inline std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(n));
}

} // namespace sysext::signing

#include "signing/keygen.hpp"

#include "signing/bio.hpp"
#include "signing/certificate.hpp"
#include "signing/key.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace sysext::signing {

namespace {

struct BnDeleter {
    void operator()(BIGNUM* b) const { BN_free(b); }
};
struct ExtDeleter {
    void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};

[[noreturn]] void fail(const std::string& what) {
    ERR_clear_error();
    throw Error(ErrorKind::Internal, "generating the development key: " + what);
}

void add_extension(X509* cert, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, ExtDeleter> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
        fail("cannot add a certificate extension");
}

} // namespace

DevelopmentKeyFiles write_development_key(const DevelopmentKeyOptions& options) {
    if (options.rsa_bits < 2048)
        throw_usage("RSA keys shorter than 2048 bits are refused");
    DevelopmentKeyFiles files;
    files.key_path = options.directory + "/development.key";
    files.cert_path = options.directory + "/development.crt";
    if (!options.overwrite)
        for (const auto& path : {files.key_path, files.cert_path})
            if (::access(path.c_str(), F_OK) == 0)
                throw_usage(path + ": exists; pass --force to replace it");

    EvpPkeyPtr key(EVP_RSA_gen(static_cast<unsigned>(options.rsa_bits)));
    if (!key)
        fail("RSA key generation failed");

    X509Ptr cert(X509_new());
    std::unique_ptr<BIGNUM, BnDeleter> serial(BN_new());
    if (!cert || !serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
        fail("cannot make a certificate serial number");
    X509_set_version(cert.get(), 2);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * options.valid_days);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(options.common_name.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), key.get());
    add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), NID_subject_key_identifier, "hash");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
        fail("cannot self-sign the certificate");

    BioPtr key_bio(BIO_new(BIO_s_mem()));
    BioPtr cert_bio(BIO_new(BIO_s_mem()));
    if (!key_bio || !cert_bio ||
        PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
            1 ||
        PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1)
        fail("cannot encode key and certificate as PEM");

    ::mkdir(options.directory.c_str(), 0755); // an existing directory is fine
    std::string cert_pem = bio_text(cert_bio.get());
    files.fingerprint_sha256 =
        Certificate::from_pem_text(cert_pem, files.cert_path).fingerprint_sha256();
    AtomicFile key_file(files.key_path, 0600);
    key_file.write(bio_text(key_bio.get()));
    AtomicFile cert_file(files.cert_path, 0644);
    cert_file.write(cert_pem);
    key_file.commit(true);
    cert_file.commit(true);
    return files;
}

} // namespace sysext::signing

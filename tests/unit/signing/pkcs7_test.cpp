#include "signing/bio.hpp"
#include "signing/certificate.hpp"
#include "signing/key.hpp"
#include "signing/keygen.hpp"
#include "signing/pkcs7.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sys/stat.h>

namespace sysext::signing {

namespace {

using test::TempDir;

EvpPkeyPtr load_key(const std::string& path) {
    std::string pem = read_file(path);
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return EvpPkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// One development key pair per test binary run: RSA generation is slow.
struct Keys {
    TempDir dir, other_dir;
    DevelopmentKeyFiles files, other;
    Keys() {
        files = write_development_key({dir.path(), "test signer", 2048, 30, false});
        other = write_development_key({other_dir.path(), "other signer", 2048, 30, false});
    }
};
Keys& keys() {
    static Keys k;
    return k;
}

constexpr const char* k_root = "a84d4f69eee5c5e75c8b93f034e786ad4e0afdf40afcc7e3932919166e93e59a";

std::string verify_error(const std::string& der, const std::string& content,
                         const Certificate& cert) {
    try {
        pkcs7_verify_detached(der, content, cert, "sig");
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Verify);
        return e.what();
    }
    return "";
}

} // namespace

TEST(DevelopmentKey, FilesAndModes) {
    auto& k = keys();
    struct stat st {};
    ASSERT_EQ(::stat(k.files.key_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(k.files.cert_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    Certificate cert = Certificate::load(k.files.cert_path);
    EXPECT_EQ(cert.subject(), "/CN=test signer");
    EXPECT_EQ(cert.fingerprint_sha256().size(), 64u);
    EXPECT_TRUE(cert.matches(load_key(k.files.key_path).get()));
    EXPECT_FALSE(cert.matches(load_key(k.other.key_path).get()));
    EXPECT_THROW(write_development_key({k.dir.path(), "again", 2048, 30, false}), Error);
}

TEST(Pkcs7, DeterministicAndVerifiable) {
    auto& k = keys();
    EvpPkeyPtr key = load_key(k.files.key_path);
    Certificate cert = Certificate::load(k.files.cert_path);
    std::string a = pkcs7_sign_detached(key.get(), "test key", cert, k_root);
    std::string b = pkcs7_sign_detached(key.get(), "test key", cert, k_root);
    EXPECT_EQ(a, b);
    EXPECT_EQ(verify_error(a, k_root, cert), "");
    // The signer's certificate is embedded, and no signing time is.
    EXPECT_NE(a.find(cert.der()), std::string::npos);
    EXPECT_EQ(a.find("\x2a\x86\x48\x86\xf7\x0d\x01\x09\x05"), std::string::npos); // signingTime OID
}

TEST(Pkcs7, RejectsWrongContentCertificateAndDamage) {
    auto& k = keys();
    EvpPkeyPtr key = load_key(k.files.key_path);
    Certificate cert = Certificate::load(k.files.cert_path);
    Certificate other = Certificate::load(k.other.cert_path);
    std::string sig = pkcs7_sign_detached(key.get(), "test key", cert, k_root);

    std::string content = k_root;
    content[0] = 'b';
    EXPECT_NE(verify_error(sig, content, cert).find("signature does not verify"),
              std::string::npos);
    EXPECT_NE(verify_error(sig, k_root, other).find("signature does not verify"),
              std::string::npos);
    EXPECT_EQ(verify_error("garbage", k_root, cert), "sig: not a DER PKCS#7 signature");
    // Every single-byte change is caught, wherever it falls.
    for (size_t i = 0; i < sig.size(); i += 7) {
        std::string damaged = sig;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
        EXPECT_NE(verify_error(damaged, k_root, cert), "") << "byte " << i;
    }
}

TEST(Pkcs7, RefusesACertificateOfAnotherKey) {
    auto& k = keys();
    EvpPkeyPtr key = load_key(k.files.key_path);
    Certificate other = Certificate::load(k.other.cert_path);
    try {
        pkcs7_sign_detached(key.get(), "test key", other, k_root);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  k.other.cert_path + ": certificate does not belong to test key");
    }
}

} // namespace sysext::signing

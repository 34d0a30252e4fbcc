#include "payload/test_support.hpp"
#include "signing/key.hpp"
#include "sysext/util/error.hpp"

#include <cstdlib>
#include <unistd.h>

namespace sysext::signing {

using sysext::testing::make_public;
using sysext::testing::make_rsa_key;
using sysext::testing::read_all;
using sysext::testing::run;
using sysext::testing::TempDir;
using sysext::testing::write_all_to;

namespace {

struct Env {
    std::string name;
};
struct Fd {
    int fd;
};
struct InsecureTag {};
constexpr InsecureTag Insecure;

KeySpec spec(std::string ref) {
    KeySpec s;
    s.ref = std::move(ref);
    return s;
}
KeySpec spec(std::string ref, Env env) {
    KeySpec s = spec(std::move(ref));
    s.passphrase_env = env.name;
    return s;
}
KeySpec spec(std::string ref, Fd fd) {
    KeySpec s = spec(std::move(ref));
    s.passphrase_fd = fd.fd;
    return s;
}
KeySpec spec(std::string ref, InsecureTag) {
    KeySpec s = spec(std::move(ref));
    s.allow_insecure_permissions = true;
    return s;
}

std::string load_error(const KeySpec& spec) {
    try {
        PrivateKey::load(spec);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

sysext::Digest digest_of(const std::string& text) { return sysext::sha256(text); }

} // namespace

TEST(PrivateKey, LoadsPemPathAndDescribesIt) {
    TempDir dir;
    std::string path = make_rsa_key(dir, "dev.pem");
    PrivateKey key = PrivateKey::load(spec(path));
    EXPECT_EQ(key.description(), "RSA-2048 key from " + path);
    EXPECT_EQ(key.signature_size(), 256u);
}

TEST(PrivateKey, LoadsFileUriThroughTheStore) {
    TempDir dir;
    std::string path = make_rsa_key(dir, "dev.pem");
    PrivateKey key = PrivateKey::load(spec("file:" + path));
    EXPECT_EQ(key.description(), "RSA-2048 key from file:" + path);
}

TEST(PrivateKey, RefusesGroupReadableFileUnlessAllowed) {
    TempDir dir;
    std::string path = make_rsa_key(dir, "dev.pem");
    run("chmod 640 " + path);
    EXPECT_EQ(load_error(spec(path)),
              path + ": private key file is readable by group or others (mode 0640); run chmod "
                     "600 on it, or allow insecure key permissions explicitly");
    // The file: URI form names the same file and gets the same check.
    EXPECT_NE(load_error(spec("file://" + path)).find("readable by group"), std::string::npos);
    EXPECT_NO_THROW(PrivateKey::load(spec(path, Insecure)));
}

TEST(PrivateKey, EncryptedKeyTakesPassphraseFromEnvOrFd) {
    TempDir dir;
    std::string path = dir.path("enc.pem");
    run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-256-cbc "
        "-pass pass:s3cret -out " + path);
    run("chmod 600 " + path);

    EXPECT_EQ(load_error(spec(path)),
              path + ": the key is encrypted and no passphrase was given");

    ::setenv("SYSEXT_TEST_PASS", "s3cret", 1);
    EXPECT_NO_THROW(PrivateKey::load(spec(path, Env{"SYSEXT_TEST_PASS"})));
    ::setenv("SYSEXT_TEST_PASS", "wrong", 1);
    std::string err = load_error(spec(path, Env{"SYSEXT_TEST_PASS"}));
    EXPECT_EQ(err.rfind(path + ": cannot decrypt the key (wrong passphrase?)", 0), 0u) << err;
    EXPECT_EQ(err.find("wrong:"), std::string::npos);
    ::unsetenv("SYSEXT_TEST_PASS");
    EXPECT_EQ(load_error(spec(path, Env{"SYSEXT_TEST_PASS"})),
              path + ": passphrase variable SYSEXT_TEST_PASS is not set");

    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ASSERT_EQ(::write(fds[1], "s3cret\n", 7), 7);
    ::close(fds[1]);
    EXPECT_NO_THROW(PrivateKey::load(spec(path, Fd{fds[0]})));
    ::close(fds[0]);
}

TEST(PrivateKey, ErrorsNameTheReferenceAndTheCause) {
    TempDir dir;
    std::string missing = dir.path("missing.pem");
    EXPECT_NE(load_error(spec(missing)).find(missing), std::string::npos);

    std::string pub = make_public(dir, make_rsa_key(dir, "k.pem"), "k.pub");
    run("chmod 600 " + pub);
    EXPECT_EQ(load_error(spec(pub)).rfind(pub + ": cannot load a private key", 0), 0u);

    // A token URI keeps its PIN out of every message.
    std::string err = load_error(spec("pkcs11:token=none;object=k?pin-value=1234"));
    EXPECT_EQ(err.rfind("pkcs11:token=none;object=k: ", 0), 0u) << err;
    EXPECT_EQ(err.find("1234"), std::string::npos);
    // Also when written into the path, where RFC 7512 has no PIN.
    err = load_error(spec("pkcs11:token=none;pin-value=98765;object=k"));
    EXPECT_EQ(err.rfind("pkcs11:token=none;object=k: ", 0), 0u) << err;
    EXPECT_EQ(err.find("98765"), std::string::npos) << err;
    EXPECT_EQ(redact_key_ref("pkcs11:token=t;pin-source=file:/p;object=k?pin-value=1"),
              "pkcs11:token=t;object=k");
}

TEST(Signatures, RsaMatchesOpensslAndVerifies) {
    TempDir dir;
    std::string path = make_rsa_key(dir, "dev.pem");
    std::string data_path = dir.path("data");
    write_all_to(data_path, "signed range");
    run("openssl dgst -sha256 -sign " + path + " -out " + dir.path("sig") + " " + data_path);

    PrivateKey key = PrivateKey::load(spec(path));
    std::string sig = sign_sha256_digest(key, digest_of("signed range"));
    // PKCS#1 v1.5 is deterministic: our signature must be openssl's, byte for byte.
    EXPECT_EQ(sig, read_all(dir.path("sig")));

    PublicKey pub = PublicKey::load_pem(make_public(dir, path, "dev.pub"));
    EXPECT_TRUE(verify_sha256_digest(pub, digest_of("signed range"), sig));
    EXPECT_FALSE(verify_sha256_digest(pub, digest_of("signed rangE"), sig));
    std::string bad = sig;
    bad[100] ^= 1;
    EXPECT_FALSE(verify_sha256_digest(pub, digest_of("signed range"), bad));
    EXPECT_FALSE(verify_sha256_digest(pub, digest_of("signed range"), sig.substr(1)));

    PublicKey other = PublicKey::load_pem(make_public(dir, make_rsa_key(dir, "o.pem"), "o.pub"));
    EXPECT_FALSE(verify_sha256_digest(other, digest_of("signed range"), sig));
}

TEST(Signatures, EcKeysSignAndOpensslVerifies) {
    TempDir dir;
    std::string path = dir.path("ec.pem");
    run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + path);
    PrivateKey key = PrivateKey::load(spec(path));
    EXPECT_EQ(key.description(), "EC prime256v1 key from " + path);
    std::string sig = sign_sha256_digest(key, digest_of("payload"));
    write_all_to(dir.path("sig"), sig);
    write_all_to(dir.path("data"), "payload");
    run("openssl pkey -in " + path + " -pubout -out " + dir.path("ec.pub"));
    run("openssl dgst -sha256 -verify " + dir.path("ec.pub") + " -signature " + dir.path("sig") +
        " " + dir.path("data"));
    PublicKey pub = PublicKey::from_private(key);
    EXPECT_TRUE(verify_sha256_digest(pub, digest_of("payload"), sig));
    EXPECT_FALSE(verify_sha256_digest(pub, digest_of("payloaD"), sig));
}

TEST(PublicKey, LoadsFromCertificateAndRejectsOtherText) {
    TempDir dir;
    std::string path = make_rsa_key(dir, "dev.pem");
    run("openssl req -new -x509 -key " + path + " -subj /CN=test -days 1 -out " +
        dir.path("cert.pem"));
    PublicKey from_cert = PublicKey::load_pem(dir.path("cert.pem"));
    PublicKey from_key = PublicKey::from_private(PrivateKey::load(spec(path)));
    EXPECT_EQ(from_cert.to_pem(), from_key.to_pem());
    EXPECT_EQ(from_cert.description(), "RSA-2048 public key from " + dir.path("cert.pem"));

    write_all_to(dir.path("junk.pem"), "not a key\n");
    try {
        PublicKey::load_pem(dir.path("junk.pem"));
        FAIL() << "junk accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), dir.path("junk.pem") + ": not a PEM public key or certificate");
    }
}

} // namespace sysext::signing

// Development signing keys: an RSA key and a self-signed certificate whose
// subject says, to anyone who inspects it, that it is not a release key.
//
// Release keys should be made and kept elsewhere (see signing/README.md); this
// exists so that developers and tests can sign without one. RSA because RSA
// PKCS#1 v1.5 signatures are deterministic: the same image signs to the same bytes.
#pragma once

#include <string>

namespace sysext::signing {

struct DevelopmentKeyOptions {
    std::string directory;
    std::string common_name = "sysext-build development key - NOT FOR RELEASE";
    int rsa_bits = 2048;
    int valid_days = 3650;
    bool overwrite = false;
};

struct DevelopmentKeyFiles {
    std::string key_path;  // DIR/development.key, PEM, mode 0600
    std::string cert_path; // DIR/development.crt, PEM
    std::string fingerprint_sha256;
};

// Generates and writes both files atomically; refuses to replace existing ones
// unless `overwrite`. Throws Usage/Io naming the file.
DevelopmentKeyFiles write_development_key(const DevelopmentKeyOptions& options);

} // namespace sysext::signing

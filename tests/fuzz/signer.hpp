// A signing key and certificate made when a target starts, in its scratch
// directory (never in the repository): verify needs a certificate to check
// against, and the payload target signs each input with the key so that the
// checks behind the signature are reached.
#pragma once

#include "fuzz_util.hpp"

#include "signing/certificate.hpp"
#include "signing/key.hpp"
#include "signing/keygen.hpp"

namespace sysext::fuzz {

struct Signer {
    signing::PrivateKey key;
    signing::PublicKey public_key;
    signing::Certificate cert;
    std::string cert_path;
};

inline const Signer& signer() {
    static const Signer s = [] {
        signing::DevelopmentKeyOptions o;
        o.directory = scratch_dir() + "/keys";
        o.common_name = "sysext-build fuzzing";
        auto files = signing::write_development_key(o);
        signing::KeySpec spec;
        spec.ref = files.key_path;
        signing::PrivateKey key = signing::PrivateKey::load(spec);
        signing::PublicKey pub = signing::PublicKey::from_private(key);
        return Signer{std::move(key), std::move(pub), signing::Certificate::load(files.cert_path),
                      files.cert_path};
    }();
    return s;
}

} // namespace sysext::fuzz

// OpenPGP signatures of SHA256SUMS, made by the user's own GnuPG.
//
// systemd-sysupdate with Verify=yes (the default) downloads SHA256SUMS and
// SHA256SUMS.gpg from a url-file source's Path= and has systemd-pull run
// `gpg --verify SHA256SUMS.gpg -` on them with a fresh home and one keyring:
// /etc/systemd/import-pubring.gpg when it exists, else
// /usr/lib/systemd/import-pubring.gpg (systemd 257; later releases also look
// for .pgp names). So the signature is a detached binary one over the exact
// bytes of SHA256SUMS, and any key gpg reads from a keyring file will do.
//
// The key is the user's: a key id, fingerprint or user id that gpg's
// --local-user accepts, in the user's home (or --gpg-homedir), used through
// gpg and gpg-agent so that smartcards and pinentry work as they do for the
// user. Nothing of the key passes through this program: gpg writes the
// signature, and only gpg's status lines are read back.
//
// A signature carries its creation time, so two signatures of the same bytes
// differ: a release or index that would not change otherwise keeps the
// signature it has (release_dir.hpp, index.hpp).
#pragma once

#include <string>

namespace sysext::publish {

struct GpgSigner {
    std::string key;     // "" = do not sign
    std::string homedir; // "" = gpg's default (GNUPGHOME, else ~/.gnupg)
    bool enabled() const { return !key.empty(); }
};

// The fingerprint of the primary key of the one secret key that KEY names,
// which must be able to sign. Throws Usage when KEY names no such key or
// several, Io when gpg cannot be run.
std::string gpg_fingerprint(const GpgSigner& signer);

// A detached binary signature of DATA by the signer's key (gpg --detach-sign),
// checked with gpg --verify before it is returned. WHAT names DATA in errors.
std::string gpg_detach_sign(const GpgSigner& signer, const std::string& data,
                            const std::string& what);

// Whether SIGNATURE is a good signature of DATA by the key with primary
// fingerprint FINGERPRINT, by the signer's gpg and keyring.
bool gpg_verifies(const GpgSigner& signer, const std::string& fingerprint, const std::string& data,
                  const std::string& signature);

} // namespace sysext::publish

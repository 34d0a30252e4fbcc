// What a detached PKCS#7 signature over a verity root hash says, for inspect:
// who signed it (the certificate embedded in the signature), whether it
// verifies over the root hash with that certificate, and, when the caller
// names a certificate to trust, whether it verifies with that one (systemd's
// check: PKCS7_verify with NOINTERN against /etc/verity.d certificates).
#pragma once

#include "signing/certificate.hpp"

#include <string>
#include <string_view>

namespace sysext::inspect {

struct SignatureStatus {
    // "none": no signature; "trusted": verifies with the given certificate;
    // "valid": verifies with its own embedded certificate, trust not checked
    // (no certificate given); "invalid": does not verify.
    std::string status = "none";
    std::string subject;     // the embedded signer certificate's subject
    std::string fingerprint; // its hex SHA-256 (DER)
    std::string detail;      // why it is invalid, or what it was checked against

    bool failed() const { return status == "invalid"; }
};

// Checks `der` over the hex root hash. `trusted` may be null. Never throws for
// a bad signature (that is the status); `what` names the signature in details.
SignatureStatus check_signature(std::string_view der, const std::string& root_hash_hex,
                                const signing::Certificate* trusted, const std::string& what);

} // namespace sysext::inspect

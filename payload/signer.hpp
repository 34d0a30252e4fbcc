// The second half of offline payload signing (shared/specs/flatcar-payload.md,
// after Flatcar's core_sign_update): the hash to sign, and attaching signatures
// made elsewhere (an HSM, a PKCS#11 token, a signing service, `openssl pkeyutl`).
//
// An unsigned payload already names the signature area with its exact final size,
// so the signed range - header, manifest, data - does not change when the
// signatures are appended: the hash signed before is the hash verified after.
#pragma once

#include "signing/key.hpp"
#include "sysext/util/sha256.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sysext::payload {

// SHA-256 of the signed range of a payload, signed or not.
sysext::Digest signed_range_hash(const std::string& payload);

struct AttachOptions {
    std::string payload; // unsigned (or signed: its signatures are replaced)
    std::string output;  // may be the same path
    std::vector<std::string> signatures; // raw signature bytes, in key order
    // If given, each key must verify one of the signatures before anything is written.
    std::span<const signing::PublicKey> public_keys;
};

struct AttachResult {
    sysext::Digest signed_hash{};
    uint64_t payload_size = 0;
};

AttachResult attach_signatures(const AttachOptions& options);

} // namespace sysext::payload

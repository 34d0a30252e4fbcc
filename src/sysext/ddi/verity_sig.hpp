// The content of a verity signature partition (Discoverable Partitions
// Specification, "Verity"): a JSON object with the hex root hash, the hex SHA-256
// fingerprint of the signer's DER certificate and the base64 DER PKCS#7 signature
// of the hex root hash, padded with NUL bytes to a multiple of 4096 bytes.
// systemd (dissect-image.c) requires that everything after the first NUL is NUL.
#pragma once

#include <string>
#include <string_view>

namespace sysext::ddi {

struct VeritySignature {
    std::string root_hash_hex;
    std::string certificate_fingerprint_hex;
    std::string signature_der;
};

// Compact JSON with keys in a fixed order, NUL-padded to a multiple of 4096.
std::string encode_verity_signature(const VeritySignature& sig);
// Parses partition content; throws a Verify error naming `what` and the problem.
VeritySignature decode_verity_signature(std::string_view content, const std::string& what);

} // namespace sysext::ddi

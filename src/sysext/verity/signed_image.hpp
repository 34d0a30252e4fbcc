// Signing an extension image: the dm-verity tree, the root hash and its PKCS#7
// signature, written either as sidecar files next to the image (what systemd
// looks for next to NAME.raw: NAME.verity, NAME.roothash, NAME.roothash.p7s) or
// as one GPT disk image (see sysext/ddi/disk_image.hpp).
//
// Signing comes last, once every byte of the image is final; every output is
// written under a temporary name and renamed into place only after the signature
// exists, so a failed signing leaves no signed-looking file behind.
#pragma once

#include "signing/certificate.hpp"
#include "signing/key.hpp"
#include "sysext/ddi/disk_image.hpp"
#include "sysext/util/reporter.hpp"

#include <string>
#include <vector>

namespace sysext::verity {

struct SignRequest {
    std::string image_path;
    std::string ddi_path; // empty: write sidecars next to the image
    std::string arch;     // for a disk image; empty: the image's ARCHITECTURE=
    std::string salt_hex; // empty: SHA-256 of the image content
    ddi::RootHashSigner sign;
    std::string certificate_fingerprint; // hex SHA-256 of the signer's DER certificate
};

struct SignResult {
    std::string root_hash_hex;
    std::string salt_hex;
    std::string arch; // only for disk images
    uint64_t data_blocks = 0;
    std::vector<std::string> outputs;
};

SignResult sign_image(const SignRequest& request, Reporter& reporter);

// The usual signer: a detached PKCS#7 by `key`, naming `cert`. Both must outlive
// the returned function. Throws Usage when the certificate is not the key's.
ddi::RootHashSigner pkcs7_signer(const signing::PrivateKey& key, const signing::Certificate& cert);

// "dir/NAME.raw" -> "dir/NAME", the stem systemd adds ".verity" etc. to. Throws
// Usage for a name without ".raw", where systemd would not look for sidecars.
std::string sidecar_stem(const std::string& image_path);

} // namespace sysext::verity

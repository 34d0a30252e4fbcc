// Checking a signed extension image the way systemd would trust it, and more
// strictly: release metadata, the dm-verity tree against every data block, the
// root hash, and the PKCS#7 signature against a given certificate. Works on a
// bare image with sidecar files or on a disk image (DDI); for a disk image also
// the partition table, the partition UUIDs derived from the root hash and that
// unused space is zero. Every check runs; each failure names what is wrong.
#pragma once

#include "signing/certificate.hpp"

#include <string>
#include <vector>

namespace sysext::verity {

// Bounds on what a signed image's signature parts can make us read: the
// .roothash sidecar is one line of 64 hex digits, a PKCS#7 signature of a root
// hash a few kilobytes; a disk image's verity signature partition (JSON with
// the signature in base64) is refused beyond k_max_signature_partition.
inline constexpr uint64_t k_max_roothash_file = 4096;
inline constexpr uint64_t k_max_signature_file = 1 << 20;
inline constexpr uint64_t k_max_signature_partition = 4 << 20;

struct Check {
    std::string name; // "release", "root hash", "verity tree", "signature", ...
    bool ok = false;
    std::string detail; // what was found, or what is wrong
};

struct ImageReport {
    std::string path;
    std::string kind; // "sidecar" or "ddi"
    std::string root_hash_hex;
    std::string arch;
    std::string release_file;
    std::vector<Check> checks;

    bool ok() const;
    std::vector<std::string> problems() const;
};

ImageReport check_signed_image(const std::string& path, const signing::Certificate& cert);

} // namespace sysext::verity

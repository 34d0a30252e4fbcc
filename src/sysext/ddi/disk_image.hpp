// Signed disk images (DDI): a GPT disk holding a /usr partition (the squashfs),
// its dm-verity partition and its verity signature partition, as systemd-dissect
// and systemd-sysext read them (UAPI Discoverable Disk Image and Discoverable
// Partitions specifications).
//
// Unlike systemd-repart, every UUID is derived from the root hash: the usr
// partition's UUID is the first 128 bits of the root hash and the verity
// partition's the last 128 bits (what systemd matches them by); the signature
// partition's and the disk's are hashed from it. Partitions start at 1 MiB and
// follow each other on 4096-byte boundaries. Same image, salt and key give the
// same bytes.
#pragma once

#include "sysext/ddi/gpt.hpp"
#include "sysext/ddi/partition_types.hpp"
#include "sysext/util/reporter.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/verity/hash_tree.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace sysext::ddi {

// Signs the hex root hash; returns a DER PKCS#7 signature.
using RootHashSigner = std::function<std::string(std::string_view root_hash_hex)>;

struct DdiRequest {
    verity::Region image; // the squashfs to embed
    std::string out_path;
    std::string arch;  // systemd architecture name
    std::string label; // base of the partition names (the image name)
    std::string salt;  // raw salt bytes
    RootHashSigner sign;
    std::string certificate_fingerprint; // hex SHA-256 of the signer's DER certificate
};

struct DdiResult {
    Digest root_hash{};
    GptDisk disk;
};

// Writes the disk image atomically: nothing appears under out_path on failure.
DdiResult write_ddi(const DdiRequest& request, Reporter& reporter);

// The three partitions of a DDI, found by type.
struct UsrPartitions {
    const UsrPartitionTypes* types = nullptr;
    GptPartition usr, verity, signature;
};

// Throws a Verify error naming the missing or duplicated partition.
UsrPartitions find_usr_partitions(const GptDisk& disk, const std::string& what);

} // namespace sysext::ddi

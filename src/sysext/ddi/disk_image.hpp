// Signed disk images (DDI): a GPT disk holding a root partition (the image,
// squashfs or EROFS, copied byte for byte; its tree has usr/ at its top), its
// dm-verity partition and its verity
// signature partition, as systemd-repart writes a sysext and systemd-dissect and
// systemd-sysext read it (UAPI Discoverable Disk Image and Discoverable
// Partitions specifications; partition_types.hpp says why root, not usr).
//
// Unlike systemd-repart, every UUID is derived from the root hash: the data
// partition's UUID is the first 128 bits of the root hash and the verity
// partition's the last 128 bits (what systemd matches them by); the signature
// partition's and the disk's are hashed from it. Partitions start at 1 MiB and
// follow each other on 4096-byte boundaries, and the disk's size is a multiple
// of 4096 (a Flatcar payload can carry it). Same image, salt and key give the
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
    verity::Region image; // the image to embed (squashfs or EROFS; any bytes, 4096-aligned)
    std::string out_path;
    std::string arch;  // systemd architecture name
    std::string label; // base of the partition names (the image name)
    std::string salt;  // raw salt bytes
    RootHashSigner sign;
    std::string certificate_fingerprint; // hex SHA-256 of the signer's DER certificate
    // Root for sysext trees; Usr only to make the images systemd cannot merge
    // that older releases wrote, for the tests of the readers that refuse them.
    Designator designator = Designator::Root;
};

struct DdiResult {
    Digest root_hash{};
    GptDisk disk;
};

// Writes the disk image atomically: nothing appears under out_path on failure.
DdiResult write_ddi(const DdiRequest& request, Reporter& reporter);

// The three partitions of a DDI, found by type: the data partition (root or
// usr, of one architecture), its verity and its signature partition.
struct DataPartitions {
    const PartitionTypes* types = nullptr;
    GptPartition data, verity, signature;

    // "root-x86-64", the name systemd gives the data partition.
    std::string data_name() const;
};

// Throws a Verify error naming the missing or duplicated partition.
DataPartitions find_data_partitions(const GptDisk& disk, const std::string& what);

// Where systemd finds an extension's usr/ tree in the data partition: "" for a
// root partition (mounted at the image's top), or the problem for a usr
// partition, which systemd mounts at /usr, so a tree with usr/ at its top has
// its release file at /usr/usr/lib/extension-release.d/ and is never merged.
std::string usr_partition_problem(const DataPartitions& parts, const std::string& what);

} // namespace sysext::ddi

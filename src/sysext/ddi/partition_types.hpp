// GPT partition type UUIDs for the data partition of a disk image, its dm-verity
// hash partition and its verity signature partition, per architecture and
// designator, from the UAPI Group's Discoverable Partitions Specification
// (`systemd-id128 show --uuid` lists the same). Architectures use systemd's
// names (as in an extension-release file's ARCHITECTURE=).
//
// The designator says where systemd mounts the data partition: a root partition
// at the image's top, a usr partition at /usr. A system extension's tree has
// usr/ (and opt/) at its top, so its disk image uses root partitions, as
// systemd-repart's sysext definitions do; in a usr partition the same tree
// would appear as /usr/usr/... and systemd would find no extension-release file.
#pragma once

#include "sysext/ddi/uuid.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sysext::ddi {

enum class Designator { Root, Usr };

// "root" or "usr", as systemd names the partitions ("root-verity", ...).
std::string_view designator_name(Designator d);

struct PartitionTypes {
    std::string_view arch;
    Designator designator;
    Uuid data;
    Uuid verity;
    Uuid verity_sig;
};

// Throws Usage naming the known architectures (and the nearest one) for an unknown name.
const PartitionTypes& partition_types(std::string_view arch, Designator designator);
// The types whose data partition type this is (root or usr), or nullptr.
const PartitionTypes* find_by_data_type(const Uuid& type);
// "root-x86-64", "usr-arm64-verity", ...: systemd's name of a known type, or nullptr.
const PartitionTypes* find_by_any_type(const Uuid& type, std::string* name);
std::vector<std::string> known_architectures();

} // namespace sysext::ddi

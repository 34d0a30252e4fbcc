// GPT partition type UUIDs for /usr, its dm-verity hash partition and its
// verity signature partition, per architecture, from the UAPI Group's Discoverable
// Partitions Specification. Architectures use systemd's names (as in an
// extension-release file's ARCHITECTURE=).
#pragma once

#include "sysext/ddi/uuid.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sysext::ddi {

struct UsrPartitionTypes {
    std::string_view arch;
    Uuid usr;
    Uuid usr_verity;
    Uuid usr_verity_sig;
};

// Throws Usage naming the known architectures (and the nearest one) for an unknown name.
const UsrPartitionTypes& usr_partition_types(std::string_view arch);
// The architecture whose /usr partition type this is, or nullptr.
const UsrPartitionTypes* find_by_usr_type(const Uuid& type);
std::vector<std::string> known_architectures();

} // namespace sysext::ddi

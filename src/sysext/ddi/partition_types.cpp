#include "sysext/ddi/partition_types.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

namespace sysext::ddi {

namespace {

const std::vector<UsrPartitionTypes>& table() {
    static const std::vector<UsrPartitionTypes> t = [] {
        struct Row {
            const char *arch, *usr, *verity, *sig;
        };
        const Row rows[] = {
            {"x86-64", "8484680c-9521-48c6-9c11-b0720656f69e",
             "77ff5f63-e7b6-4633-acf4-1565b864c0e6", "e7bb33fb-06cf-4e81-8273-e543b413e2e2"},
            {"arm64", "b0e01050-ee5f-4390-949a-9101b17104e9",
             "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e", "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a"},
            {"x86", "75250d76-8cc6-458e-bd66-bd47cc81a812", "8f461b0d-14ee-4e81-9aa9-049b6fb97abd",
             "974a71c0-de41-43c3-be5d-5c5ccd1ad2c0"},
            {"arm", "7d0359a3-02b3-4f0a-865c-654403e70625", "c215d751-7bcd-4649-be90-6627490a4c05",
             "d7ff812f-37d1-4902-a810-d76ba57b975a"},
            {"riscv64", "beaec34b-8442-439b-a40b-984381ed097d",
             "8f1056be-9b05-47c4-81d6-be53128e5b54", "d2f9000a-7a18-453f-b5cd-4d32f77a7b32"},
            {"ppc64-le", "15bb03af-77e7-4d4a-b12b-c0d084f7491c",
             "ee2b9983-21e8-4153-86d9-b6901a54d1ce", "c8bfbd1e-268e-4521-8bba-bf314c399557"},
            {"s390x", "8a4f5770-50aa-4ed3-874a-99b710db6fea",
             "31741cc4-1a2a-4111-a581-e00b447d2d06", "3f324816-667b-46ae-86ee-9b0c0c6c11b4"},
            {"loongarch64", "e611c702-575c-4cbe-9a46-434fa0bf7e3f",
             "f46b2c26-59ae-48f0-9106-c50ed47f673d", "b024f315-d330-444c-8461-44bbde524e99"},
        };
        std::vector<UsrPartitionTypes> out;
        for (const Row& r : rows)
            out.push_back({r.arch, Uuid::parse(r.usr), Uuid::parse(r.verity), Uuid::parse(r.sig)});
        return out;
    }();
    return t;
}

} // namespace

std::vector<std::string> known_architectures() {
    std::vector<std::string> names;
    for (const auto& t : table())
        names.emplace_back(t.arch);
    return names;
}

const UsrPartitionTypes& usr_partition_types(std::string_view arch) {
    for (const auto& t : table())
        if (t.arch == arch)
            return t;
    std::string msg = "unknown architecture " + quote(arch) + " for a disk image";
    if (std::string near = nearest(arch, known_architectures()); !near.empty())
        msg += " (did you mean \"" + near + "\"?)";
    msg += "; known:";
    for (const auto& name : known_architectures())
        msg += " " + name;
    throw_usage(msg);
}

const UsrPartitionTypes* find_by_usr_type(const Uuid& type) {
    for (const auto& t : table())
        if (t.usr == type)
            return &t;
    return nullptr;
}

} // namespace sysext::ddi

#include "sysext/ddi/partition_types.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

namespace sysext::ddi {

namespace {

const std::vector<PartitionTypes>& table() {
    static const std::vector<PartitionTypes> t = [] {
        struct Row {
            const char* arch;
            Designator designator;
            const char *data, *verity, *sig;
        };
        constexpr Designator root = Designator::Root, usr = Designator::Usr;
        const Row rows[] = {
            {"x86-64", root, "4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
             "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5", "41092b05-9fc8-4523-994f-2def0408b176"},
            {"x86-64", usr, "8484680c-9521-48c6-9c11-b0720656f69e",
             "77ff5f63-e7b6-4633-acf4-1565b864c0e6", "e7bb33fb-06cf-4e81-8273-e543b413e2e2"},
            {"arm64", root, "b921b045-1df0-41c3-af44-4c6f280d3fae",
             "df3300ce-d69f-4c92-978c-9bfb0f38d820", "6db69de6-29f4-4758-a7a5-962190f00ce3"},
            {"arm64", usr, "b0e01050-ee5f-4390-949a-9101b17104e9",
             "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e", "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a"},
            {"x86", root, "44479540-f297-41b2-9af7-d131d5f0458a",
             "d13c5d3b-b5d1-422a-b29f-9454fdc89d76", "5996fc05-109c-48de-808b-23fa0830b676"},
            {"x86", usr, "75250d76-8cc6-458e-bd66-bd47cc81a812",
             "8f461b0d-14ee-4e81-9aa9-049b6fb97abd", "974a71c0-de41-43c3-be5d-5c5ccd1ad2c0"},
            {"arm", root, "69dad710-2ce4-4e3c-b16c-21a1d49abed3",
             "7386cdf2-203c-47a9-a498-f2ecce45a2d6", "42b0455f-eb11-491d-98d3-56145ba9d037"},
            {"arm", usr, "7d0359a3-02b3-4f0a-865c-654403e70625",
             "c215d751-7bcd-4649-be90-6627490a4c05", "d7ff812f-37d1-4902-a810-d76ba57b975a"},
            {"riscv64", root, "72ec70a6-cf74-40e6-bd49-4bda08e8f224",
             "b6ed5582-440b-4209-b8da-5ff7c419ea3d", "efe0f087-ea8d-4469-821a-4c2a96a8386a"},
            {"riscv64", usr, "beaec34b-8442-439b-a40b-984381ed097d",
             "8f1056be-9b05-47c4-81d6-be53128e5b54", "d2f9000a-7a18-453f-b5cd-4d32f77a7b32"},
            {"ppc64-le", root, "c31c45e6-3f39-412e-80fb-4809c4980599",
             "906bd944-4589-4aae-a4e4-dd983917446a", "d4a236e7-e873-4c07-bf1d-bf6cf7f1c3c6"},
            {"ppc64-le", usr, "15bb03af-77e7-4d4a-b12b-c0d084f7491c",
             "ee2b9983-21e8-4153-86d9-b6901a54d1ce", "c8bfbd1e-268e-4521-8bba-bf314c399557"},
            {"s390x", root, "5eead9a9-fe09-4a1e-a1d7-520d00531306",
             "b325bfbe-c7be-4ab8-8357-139e652d2f6b", "c80187a5-73a3-491a-901a-017c3fa953e9"},
            {"s390x", usr, "8a4f5770-50aa-4ed3-874a-99b710db6fea",
             "31741cc4-1a2a-4111-a581-e00b447d2d06", "3f324816-667b-46ae-86ee-9b0c0c6c11b4"},
            {"loongarch64", root, "77055800-792c-4f94-b39a-98c91b762bb6",
             "f3393b22-e9af-4613-a948-9d3bfbd0c535", "5afb67eb-ecc8-4f85-ae8e-ac1e7c50e7d0"},
            {"loongarch64", usr, "e611c702-575c-4cbe-9a46-434fa0bf7e3f",
             "f46b2c26-59ae-48f0-9106-c50ed47f673d", "b024f315-d330-444c-8461-44bbde524e99"},
        };
        std::vector<PartitionTypes> out;
        for (const Row& r : rows)
            out.push_back({r.arch, r.designator, Uuid::parse(r.data), Uuid::parse(r.verity),
                           Uuid::parse(r.sig)});
        return out;
    }();
    return t;
}

} // namespace

std::string_view designator_name(Designator d) {
    return d == Designator::Root ? "root" : "usr";
}

std::vector<std::string> known_architectures() {
    std::vector<std::string> names;
    for (const auto& t : table())
        if (t.designator == Designator::Root)
            names.emplace_back(t.arch);
    return names;
}

const PartitionTypes& partition_types(std::string_view arch, Designator designator) {
    for (const auto& t : table())
        if (t.arch == arch && t.designator == designator)
            return t;
    std::string msg = "unknown architecture " + quote(arch) + " for a disk image";
    if (std::string near = nearest(arch, known_architectures()); !near.empty())
        msg += " (did you mean \"" + near + "\"?)";
    msg += "; known:";
    for (const auto& name : known_architectures())
        msg += " " + name;
    throw_usage(msg);
}

const PartitionTypes* find_by_data_type(const Uuid& type) {
    for (const auto& t : table())
        if (t.data == type)
            return &t;
    return nullptr;
}

const PartitionTypes* find_by_any_type(const Uuid& type, std::string* name) {
    for (const auto& t : table()) {
        const char* suffix = t.data == type          ? ""
                             : t.verity == type     ? "-verity"
                             : t.verity_sig == type ? "-verity-sig"
                                                    : nullptr;
        if (suffix == nullptr)
            continue;
        if (name != nullptr)
            *name = std::string(designator_name(t.designator)) + "-" + std::string(t.arch) + suffix;
        return &t;
    }
    return nullptr;
}

} // namespace sysext::ddi

// Architectures: systemd's names (src/basic/architecture.c, the ARCHITECTURE=
// field of extension-release) to ELF machines and classes, readable machine
// names for messages, and where each ABI's libraries live by default (Debian's
// multiarch tuples, the lib64 convention of Fedora, Flatcar and Gentoo).
#include "sysext/validate/elf.hpp"
#include "sysext/validate/elf_view.hpp"

#include <elf.h>

#include <cstdio>
#include <utility>

namespace sysext::validate {

namespace {

struct ArchRow {
    const char* name;
    std::vector<uint16_t> machines;
    bool is_64;
    int little_endian; // -1: the name does not say
};

// systemd's names, in its order. SPARC v8+ code (EM_SPARC32PLUS) runs on "sparc".
const std::vector<ArchRow>& arch_rows() {
    static const std::vector<ArchRow> rows = {
        {"x86", {EM_386}, false, 1},
        {"x86-64", {EM_X86_64}, true, 1},
        {"ppc", {EM_PPC}, false, 0},
        {"ppc-le", {EM_PPC}, false, 1},
        {"ppc64", {EM_PPC64}, true, 0},
        {"ppc64-le", {EM_PPC64}, true, 1},
        {"ia64", {EM_IA_64}, true, 1},
        {"parisc", {EM_PARISC}, false, 0},
        {"parisc64", {EM_PARISC}, true, 0},
        {"s390", {EM_S390}, false, 0},
        {"s390x", {EM_S390}, true, 0},
        {"sparc", {EM_SPARC, EM_SPARC32PLUS}, false, 0},
        {"sparc64", {EM_SPARCV9}, true, 0},
        {"mips", {EM_MIPS}, false, 0},
        {"mips-le", {EM_MIPS}, false, 1},
        {"mips64", {EM_MIPS}, true, 0},
        {"mips64-le", {EM_MIPS}, true, 1},
        {"alpha", {EM_ALPHA}, true, 1},
        {"arm", {EM_ARM}, false, 1},
        {"arm-be", {EM_ARM}, false, 0},
        {"arm64", {EM_AARCH64}, true, 1},
        {"arm64-be", {EM_AARCH64}, true, 0},
        {"sh", {EM_SH}, false, -1},
        {"sh64", {EM_SH}, true, -1},
        {"m68k", {EM_68K}, false, 0},
        {"tilegx", {EM_TILEGX}, true, 1},
        {"cris", {EM_CRIS}, false, 1},
        {"nios2", {EM_ALTERA_NIOS2}, false, 1},
        {"riscv32", {EM_RISCV}, false, 1},
        {"riscv64", {EM_RISCV}, true, 1},
        {"arc", {EM_ARC_COMPACT, EM_ARCV2}, false, 1},
        {"arc-be", {EM_ARC_COMPACT, EM_ARCV2}, false, 0},
        {"loongarch64", {EM_LOONGARCH}, true, 1},
    };
    return rows;
}

struct AbiRow {
    uint16_t machine;
    bool is_64;
    int little_endian; // -1: either
    std::vector<const char*> tuples;
    bool lib64;
    const char* biarch = nullptr; // where Debian's 64-bit hosts keep this 32-bit ABI
};

// Debian's multiarch tuples; lib64 where 64-bit distributions put libraries in
// /usr/lib64 (their ld.so's default path); the biarch directory that the 32-bit
// loader of Debian's libc6-i386 and libc6-x32 searches.
const std::vector<AbiRow>& abi_rows() {
    static const std::vector<AbiRow> rows = {
        {EM_X86_64, true, 1, {"x86_64-linux-gnu"}, true},
        {EM_X86_64, false, 1, {"x86_64-linux-gnux32"}, false, "libx32"},
        {EM_386, false, 1, {"i386-linux-gnu"}, false, "lib32"},
        {EM_AARCH64, true, 1, {"aarch64-linux-gnu"}, true},
        {EM_AARCH64, true, 0, {"aarch64_be-linux-gnu"}, true},
        {EM_ARM, false, 1, {"arm-linux-gnueabihf", "arm-linux-gnueabi"}, false},
        {EM_RISCV, true, 1, {"riscv64-linux-gnu"}, true},
        {EM_PPC64, true, 1, {"powerpc64le-linux-gnu"}, true},
        {EM_PPC64, true, 0, {"powerpc64-linux-gnu"}, true},
        {EM_PPC, false, 0, {"powerpc-linux-gnu"}, false},
        {EM_S390, true, 0, {"s390x-linux-gnu"}, true},
        {EM_MIPS, true, 1, {"mips64el-linux-gnuabi64"}, true},
        {EM_MIPS, true, 0, {"mips64-linux-gnuabi64"}, true},
        {EM_MIPS, false, 1, {"mipsel-linux-gnu"}, false},
        {EM_MIPS, false, 0, {"mips-linux-gnu"}, false},
        {EM_LOONGARCH, true, 1, {"loongarch64-linux-gnu"}, true},
        {EM_SPARCV9, true, 0, {"sparc64-linux-gnu"}, true},
        {EM_ALPHA, true, 1, {"alpha-linux-gnu"}, false},
        {EM_68K, false, 0, {"m68k-linux-gnu"}, false},
        {EM_SH, false, 1, {"sh4-linux-gnu"}, false},
        {EM_IA_64, true, 1, {"ia64-linux-gnu"}, false},
        {EM_PARISC, false, 0, {"hppa-linux-gnu"}, false},
    };
    return rows;
}

} // namespace

std::optional<ElfArch> elf_arch(const std::string& systemd_name) {
    for (const auto& row : arch_rows())
        if (systemd_name == row.name)
            return ElfArch{row.machines, row.is_64, row.little_endian};
    return std::nullopt;
}

std::vector<std::string> known_architectures() {
    std::vector<std::string> names;
    for (const auto& row : arch_rows())
        names.emplace_back(row.name);
    return names;
}

std::string machine_name(uint16_t machine) {
    // readelf's names, shortened where it is wordy.
    static const std::pair<uint16_t, const char*> names[] = {
        {EM_386, "Intel 80386"}, {EM_X86_64, "x86-64"},         {EM_AARCH64, "AArch64"},
        {EM_ARM, "ARM"},         {EM_RISCV, "RISC-V"},          {EM_PPC, "PowerPC"},
        {EM_PPC64, "PowerPC64"}, {EM_S390, "IBM S/390"},        {EM_MIPS, "MIPS"},
        {EM_SPARC, "SPARC"},     {EM_SPARC32PLUS, "SPARC v8+"}, {EM_SPARCV9, "SPARC v9"},
        {EM_IA_64, "IA-64"},     {EM_PARISC, "HPPA"},           {EM_ALPHA, "Alpha"},
        {EM_SH, "SuperH"},       {EM_68K, "MC68000"},           {EM_TILEGX, "TILE-Gx"},
        {EM_CRIS, "CRIS"},       {EM_ALTERA_NIOS2, "Nios II"},  {EM_ARC_COMPACT, "ARCompact"},
        {EM_ARCV2, "ARCv2"},     {EM_LOONGARCH, "LoongArch"},   {EM_BPF, "BPF"},
    };
    for (const auto& [value, name] : names)
        if (value == machine)
            return name;
    char b[24];
    std::snprintf(b, sizeof b, "machine 0x%x", machine);
    return b;
}

std::vector<std::string> default_library_dirs(const ElfFile& elf) {
    std::vector<std::string> dirs;
    bool lib64 = false;
    for (const auto& row : abi_rows()) {
        if (row.machine != elf.machine || row.is_64 != elf.is_64 ||
            (row.little_endian >= 0 && row.little_endian != int{elf.little_endian}))
            continue;
        for (const char* tuple : row.tuples) {
            dirs.push_back(std::string("/lib/") + tuple);
            dirs.push_back(std::string("/usr/lib/") + tuple);
        }
        lib64 = row.lib64;
        if (row.biarch) {
            dirs.push_back(std::string("/") + row.biarch);
            dirs.push_back(std::string("/usr/") + row.biarch);
        }
        break;
    }
    if (lib64) {
        dirs.emplace_back("/lib64");
        dirs.emplace_back("/usr/lib64");
    }
    dirs.emplace_back("/lib");
    dirs.emplace_back("/usr/lib");
    return dirs;
}

} // namespace sysext::validate

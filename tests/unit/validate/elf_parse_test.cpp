// parse_elf on real binaries of this machine (compared with readelf's view),
// on crafted files of other classes and byte orders, and on hostile ones.
#include "sysext/release/release.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/validate/elf.hpp"
#include "test_util.hpp"
#include "validate/elf_craft.hpp"

#include <gtest/gtest.h>

#include <random>
#include <regex>

namespace sysext::validate {
namespace {

using test::craft_elf;
using test::CraftSpec;
using test::patch;

ReadAt reader(const std::string& bytes) {
    return [&bytes](uint64_t offset, void* buf, size_t size) {
        if (offset >= bytes.size() || size == 0)
            return size_t{0};
        size_t n = std::min<uint64_t>(size, bytes.size() - offset);
        std::memcpy(buf, bytes.data() + offset, n);
        return n;
    };
}

std::optional<ElfFile> parse(const std::string& bytes, const std::string& origin = "x") {
    return parse_elf(reader(bytes), bytes.size(), origin);
}

// The error parse_elf throws for bytes; "" when it parses.
std::string error_of(const std::string& bytes) {
    try {
        parse(bytes, "usr/bin/bad");
        return "";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input) << e.what();
        return e.what();
    }
}

// readelf's list of a file's DT_NEEDED entries and its interpreter.
std::vector<std::string> readelf_needed(const std::string& path) {
    std::string out = test::run("readelf -dW " + path);
    std::vector<std::string> needed;
    std::regex re(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
    for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator();
         ++it)
        needed.push_back((*it)[1]);
    return needed;
}

std::string readelf_interpreter(const std::string& path) {
    std::string out = test::run("readelf -lW " + path);
    std::smatch m;
    std::regex re(R"(Requesting program interpreter: ([^\]]+)\])");
    return std::regex_search(out, m, re) ? m[1].str() : "";
}

TEST(ElfParse, RealDynamicBinaryMatchesReadelf) {
    const std::string ls = "/bin/ls";
    const std::string bytes = read_file(ls);
    auto elf = parse(bytes);
    ASSERT_TRUE(elf);
    EXPECT_EQ(elf->machine, EM_X86_64);
    EXPECT_TRUE(elf->is_64);
    EXPECT_TRUE(elf->little_endian);
    EXPECT_EQ(elf->interpreter, readelf_interpreter(ls));
    EXPECT_EQ(elf->needed, readelf_needed(ls));
    EXPECT_FALSE(elf->needed.empty());
}

TEST(ElfParse, SharedLibraryHasSoname) {
    const std::string lib = "/lib/x86_64-linux-gnu/libc.so.6";
    auto elf = parse(read_file(lib));
    ASSERT_TRUE(elf);
    EXPECT_EQ(elf->soname, "libc.so.6");
    EXPECT_EQ(elf->needed, readelf_needed(lib));
}

TEST(ElfParse, StaticBinaryNeedsNothing) {
    test::TempDir dir;
    test::write_text(dir / "hello.c", "int main(void) { return 0; }\n");
    int status = 0;
    test::run("gcc -static -o " + (dir / "hello") + " " + (dir / "hello.c") + " 2>&1", &status);
    ASSERT_EQ(status, 0) << "gcc -static failed (libc6-dev is needed)";
    auto elf = parse(read_file(dir / "hello"));
    ASSERT_TRUE(elf);
    EXPECT_EQ(elf->interpreter, "");
    EXPECT_TRUE(elf->needed.empty());
    EXPECT_EQ(readelf_needed(dir / "hello"), elf->needed);
}

TEST(ElfParse, NotElf) {
    EXPECT_FALSE(parse(""));
    EXPECT_FALSE(parse("\x7f"
                       "EL"));
    EXPECT_FALSE(parse("#!/bin/sh\necho hi\n"));
    EXPECT_FALSE(parse(std::string(4096, '\0')));
}

TEST(ElfParse, CraftedBigEndian32BitMatchesReadelf) {
    CraftSpec s;
    s.machine = EM_MIPS;
    s.is_64 = false;
    s.little_endian = false;
    s.interpreter = "/lib/ld.so.1";
    s.needed = {"libfoo.so.1", "libbar.so.2"};
    s.runpath = "$ORIGIN/../lib::/opt/x/lib";
    s.soname = "libself.so.3";
    test::TempDir dir;
    test::write_text(dir / "mips", craft_elf(s).bytes);
    auto elf = parse(read_file(dir / "mips"));
    ASSERT_TRUE(elf);
    EXPECT_EQ(elf->machine, EM_MIPS);
    EXPECT_FALSE(elf->is_64);
    EXPECT_FALSE(elf->little_endian);
    EXPECT_EQ(elf->interpreter, "/lib/ld.so.1");
    EXPECT_EQ(elf->needed, (std::vector<std::string>{"libfoo.so.1", "libbar.so.2"}));
    EXPECT_EQ(elf->needed, readelf_needed(dir / "mips"));
    EXPECT_EQ(readelf_interpreter(dir / "mips"), "/lib/ld.so.1");
    EXPECT_EQ(elf->runpath, (std::vector<std::string>{"$ORIGIN/../lib", "/opt/x/lib"}));
    EXPECT_FALSE(elf->runpath_is_rpath);
    EXPECT_EQ(elf->soname, "libself.so.3");
    EXPECT_NE(test::run("readelf -hW " + (dir / "mips")).find("MIPS R3000"), std::string::npos);
}

TEST(ElfParse, RpathIgnoredWhenRunpathPresent) {
    CraftSpec s;
    s.needed = {"libc.so.6"};
    s.rpath = "/only/rpath";
    auto elf = parse(craft_elf(s).bytes);
    ASSERT_TRUE(elf);
    EXPECT_EQ(elf->runpath, std::vector<std::string>{"/only/rpath"});
    EXPECT_TRUE(elf->runpath_is_rpath);
    s.runpath = "/the/runpath";
    elf = parse(craft_elf(s).bytes);
    EXPECT_EQ(elf->runpath, std::vector<std::string>{"/the/runpath"});
    EXPECT_FALSE(elf->runpath_is_rpath);
}

TEST(ElfParse, TruncatedAtEveryLengthFailsCleanly) {
    CraftSpec s;
    s.interpreter = "/lib64/ld-linux-x86-64.so.2";
    s.needed = {"libc.so.6", "libselinux.so.1"};
    s.runpath = "$ORIGIN";
    const std::string full = craft_elf(s).bytes;
    ASSERT_TRUE(parse(full));
    for (size_t len = 4; len < full.size(); ++len) {
        std::string err = error_of(full.substr(0, len));
        ASSERT_NE(err, "") << "a file cut to " << len << " bytes parsed";
        EXPECT_TRUE(err.rfind("usr/bin/bad: truncated ELF file: ", 0) == 0 ||
                    err.rfind("usr/bin/bad: malformed ELF file: ", 0) == 0)
            << err;
    }
    EXPECT_EQ(error_of(full.substr(0, 10)),
              "usr/bin/bad: truncated ELF file: 10 bytes, shorter than the ELF identification");
    EXPECT_EQ(error_of(full.substr(0, 100)),
              "usr/bin/bad: truncated ELF file: program headers at offset 64 (168 bytes) ends "
              "past the end of the file (100 bytes)");
}

// Where the last byte ld.so maps from a 64-bit file lies.
uint64_t end_of_loaded(const std::string& bytes) {
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    uint64_t end = 0;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        std::memcpy(&ph, bytes.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_LOAD)
            end = std::max<uint64_t>(end, ph.p_offset + ph.p_filesz);
    }
    return end;
}

TEST(ElfParse, RealBinaryTruncatedFailsCleanly) {
    const std::string bytes = read_file("/bin/ls");
    const uint64_t loaded = end_of_loaded(bytes);
    ASSERT_GT(loaded, 4096u);
    // Cut anywhere before the end of its loaded segments, a file is an error;
    // after that only section headers and the like are missing, which ld.so ignores.
    for (size_t len = 4; len < bytes.size(); len += len < 512 ? 1 : 997)
        EXPECT_EQ(error_of(bytes.substr(0, len)) != "", len < loaded) << len;
    EXPECT_NE(error_of(bytes.substr(0, loaded - 1)), "");
    EXPECT_EQ(error_of(bytes.substr(0, loaded)), "");
}

TEST(ElfParse, HostileOffsets) {
    CraftSpec s;
    s.interpreter = "/lib64/ld-linux-x86-64.so.2";
    s.needed = {"libc.so.6"};
    const test::Crafted c = craft_elf(s);
    const uint64_t ph_interp = c.phoff + sizeof(Elf64_Phdr);
    const uint64_t ph_dynamic = c.phoff + 2 * sizeof(Elf64_Phdr);
    auto with = [&](auto mutate) {
        std::string b = c.bytes;
        mutate(b);
        return error_of(b);
    };
    EXPECT_EQ(with([](std::string& b) { b[EI_CLASS] = 7; }),
              "usr/bin/bad: malformed ELF file: unknown class 7");
    EXPECT_EQ(with([](std::string& b) { b[EI_DATA] = 3; }),
              "usr/bin/bad: malformed ELF file: unknown byte order 3");
    EXPECT_EQ(
        with([](std::string& b) { patch<uint64_t>(b, offsetof(Elf64_Ehdr, e_phoff), ~0ull - 8); }),
        "usr/bin/bad: truncated ELF file: program headers at offset 18446744073709551607 "
        "(168 bytes) ends past the end of the file (" +
            std::to_string(c.bytes.size()) + " bytes)");
    EXPECT_EQ(
        with([](std::string& b) { patch<uint16_t>(b, offsetof(Elf64_Ehdr, e_phentsize), 12); }),
        "usr/bin/bad: malformed ELF file: program header entry size 12, expected 56");
    // PN_XNUM sends the reader to a section header far outside the file.
    EXPECT_NE(with([](std::string& b) {
                  patch<uint16_t>(b, offsetof(Elf64_Ehdr, e_phnum), PN_XNUM);
                  patch<uint64_t>(b, offsetof(Elf64_Ehdr, e_shoff), 1ull << 62);
              }).find("truncated ELF file: section header 0 at offset 4611686018427387904"),
              std::string::npos);
    EXPECT_NE(with([&](std::string& b) {
                  patch<uint64_t>(b, ph_interp + offsetof(Elf64_Phdr, p_offset), ~0ull);
              }).find("truncated ELF file: PT_INTERP at offset 18446744073709551615"),
              std::string::npos);
    EXPECT_EQ(with([&](std::string& b) {
                  patch<uint64_t>(b, ph_dynamic + offsetof(Elf64_Phdr, p_filesz), 1ull << 40);
              }),
              "usr/bin/bad: malformed ELF file: PT_DYNAMIC of 1099511627776 bytes");
    // DT_STRTAB is the second-to-last-but-one entry: tag, then value.
    const uint64_t strtab_value = c.bytes.size() - 3 * sizeof(Elf64_Dyn) + 8;
    EXPECT_EQ(
        with([&](std::string& b) { patch<uint64_t>(b, strtab_value, 0xdead0000); }),
        "usr/bin/bad: malformed ELF file: DT_STRTAB address 0xdead0000 is in no loaded segment");
    // The DT_NEEDED entry's string offset, far past the table.
    const uint64_t needed_value = c.dynamic_off + 8;
    EXPECT_NE(
        with([&](std::string& b) {
            patch<uint64_t>(b, needed_value, ~0ull);
        }).find("malformed ELF file: string offset 18446744073709551615 past the string table"),
        std::string::npos);
    // An interpreter that is not NUL-terminated inside its segment.
    EXPECT_EQ(with([&](std::string& b) { b[c.interp_off + s.interpreter.size()] = 'x'; }),
              "usr/bin/bad: malformed ELF file: PT_INTERP is not terminated inside its table");
}

TEST(ElfParse, RandomCorruptionNeverCrashes) {
    CraftSpec s;
    s.interpreter = "/lib/ld-linux-aarch64.so.1";
    s.needed = {"libc.so.6", "libm.so.6"};
    s.runpath = "$ORIGIN/../lib";
    s.soname = "libx.so";
    for (bool is_64 : {true, false}) {
        s.is_64 = is_64;
        const std::string clean = craft_elf(s).bytes;
        std::mt19937 rng(is_64 ? 1 : 2); // fixed seeds: the same cases every run
        for (int round = 0; round < 3000; ++round) {
            std::string b = clean;
            int flips = 1 + static_cast<int>(rng() % 4);
            for (int i = 0; i < flips; ++i) {
                size_t at = 4 + rng() % (b.size() - 4);
                b[at] = static_cast<char>(rng() % 3 == 0 ? 0xff : rng());
            }
            error_of(b); // parses or throws Input; anything else fails the test
        }
    }
}

TEST(ElfParse, RealBinaryWithCorruptHeadersNeverCrashes) {
    const std::string clean = read_file("/bin/ls");
    Elf64_Ehdr eh;
    std::memcpy(&eh, clean.data(), sizeof eh);
    // The ELF and program headers: every offset and size the parser follows.
    const size_t headers = eh.e_phoff + size_t{eh.e_phnum} * sizeof(Elf64_Phdr);
    std::mt19937 rng(3);
    for (int round = 0; round < 3000; ++round) {
        std::string b = clean;
        int flips = 1 + static_cast<int>(rng() % 3);
        for (int i = 0; i < flips; ++i)
            b[4 + rng() % (headers - 4)] = static_cast<char>(rng());
        error_of(b);
    }
}

TEST(ElfArch, SystemdNames) {
    auto x86_64 = elf_arch("x86-64");
    ASSERT_TRUE(x86_64);
    EXPECT_EQ(x86_64->machines, std::vector<uint16_t>{EM_X86_64});
    EXPECT_TRUE(x86_64->is_64);
    auto arm64 = elf_arch("arm64");
    ASSERT_TRUE(arm64);
    EXPECT_EQ(arm64->machines, std::vector<uint16_t>{EM_AARCH64});
    auto ppc = elf_arch("ppc64-le");
    ASSERT_TRUE(ppc);
    EXPECT_EQ(ppc->little_endian, 1);
    EXPECT_EQ(elf_arch("s390x")->little_endian, 0);
    EXPECT_FALSE(elf_arch("riscv64")->machines.empty());
    EXPECT_FALSE(elf_arch("_any"));
    EXPECT_FALSE(elf_arch(""));
    EXPECT_FALSE(elf_arch("amd64"));
    // Every name here is one the release file accepts.
    for (const auto& name : known_architectures())
        EXPECT_TRUE(release::known_architecture(name)) << name;
    EXPECT_EQ(machine_name(EM_AARCH64), "AArch64");
    EXPECT_EQ(machine_name(0x7777), "machine 0x7777");
}

} // namespace
} // namespace sysext::validate

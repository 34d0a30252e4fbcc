// Builds small ELF files for the ELF check's tests: any class, byte order and
// machine, with PT_INTERP and a dynamic section laid out as a linker would
// (one PT_LOAD at a non-zero address, so DT_STRTAB must be translated).
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace sysext::test {

struct CraftSpec {
    uint16_t type = ET_DYN;
    uint16_t machine = EM_X86_64;
    bool is_64 = true;
    bool little_endian = true;
    std::string interpreter;
    std::vector<std::string> needed;
    std::string runpath, rpath, soname;
};

struct Crafted {
    std::string bytes;
    uint64_t phoff = 0, interp_off = 0, strtab_off = 0, dynamic_off = 0;
    uint64_t vaddr = 0; // where the PT_LOAD maps offset 0
};

namespace craft_detail {
class Out {
public:
    Out(bool little, bool is_64) : m_little(little), m_64(is_64) {}
    void uint(uint64_t v, size_t n) {
        for (size_t i = 0; i < n; ++i) {
            size_t shift = 8 * (m_little ? i : n - 1 - i);
            m_bytes.push_back(static_cast<char>((v >> shift) & 0xff));
        }
    }
    void u16(uint64_t v) { uint(v, 2); }
    void u32(uint64_t v) { uint(v, 4); }
    void word(uint64_t v) { uint(v, m_64 ? 8 : 4); } // Addr, Off, Xword
    void raw(const std::string& s) { m_bytes += s; }
    std::string& bytes() { return m_bytes; }

private:
    bool m_little, m_64;
    std::string m_bytes;
};
} // namespace craft_detail

inline Crafted craft_elf(const CraftSpec& s) {
    using craft_detail::Out;
    const size_t ehsize = s.is_64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    const size_t phsize = s.is_64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    const size_t dynsize = s.is_64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
    const bool dynamic =
        !s.needed.empty() || !s.runpath.empty() || !s.rpath.empty() || !s.soname.empty();

    // The string table and the dynamic entries naming its strings.
    std::string strtab(1, '\0');
    std::vector<std::pair<int64_t, uint64_t>> dyn;
    auto add = [&](int64_t tag, const std::string& str) {
        dyn.emplace_back(tag, strtab.size());
        strtab += str;
        strtab.push_back('\0');
    };
    for (const auto& n : s.needed)
        add(DT_NEEDED, n);
    if (!s.soname.empty())
        add(DT_SONAME, s.soname);
    if (!s.rpath.empty())
        add(DT_RPATH, s.rpath);
    if (!s.runpath.empty())
        add(DT_RUNPATH, s.runpath);

    Crafted c;
    c.vaddr = 0x10000;
    const size_t phnum = 1 + (s.interpreter.empty() ? 0 : 1) + (dynamic ? 1 : 0);
    c.phoff = ehsize;
    c.interp_off = c.phoff + phnum * phsize;
    c.strtab_off = c.interp_off + (s.interpreter.empty() ? 0 : s.interpreter.size() + 1);
    c.dynamic_off = (c.strtab_off + strtab.size() + 7) / 8 * 8;
    const size_t ndyn = dynamic ? dyn.size() + 3 : 0; // + DT_STRTAB, DT_STRSZ, DT_NULL
    const uint64_t total = c.dynamic_off + ndyn * dynsize;

    Out o(s.little_endian, s.is_64);
    o.raw(std::string(ELFMAG, SELFMAG));
    o.uint(s.is_64 ? ELFCLASS64 : ELFCLASS32, 1);
    o.uint(s.little_endian ? ELFDATA2LSB : ELFDATA2MSB, 1);
    o.uint(EV_CURRENT, 1);
    o.raw(std::string(EI_NIDENT - 7, '\0'));
    o.u16(s.type);
    o.u16(s.machine);
    o.u32(EV_CURRENT);
    o.word(0);       // e_entry
    o.word(c.phoff); // e_phoff
    o.word(0);       // e_shoff
    o.u32(0);        // e_flags
    o.u16(ehsize);
    o.u16(phsize);
    o.u16(phnum);
    o.u16(s.is_64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr));
    o.u16(0); // e_shnum
    o.u16(0); // e_shstrndx

    // The field order differs between the classes (p_flags moved in ELF64).
    auto phdr = [&](uint32_t type, uint64_t off, uint64_t vaddr, uint64_t size) {
        o.u32(type);
        if (s.is_64)
            o.u32(PF_R);
        o.word(off);
        o.word(vaddr);
        o.word(vaddr);
        o.word(size);
        o.word(size);
        if (!s.is_64)
            o.u32(PF_R);
        o.word(8);
    };
    phdr(PT_LOAD, 0, c.vaddr, total);
    if (!s.interpreter.empty())
        phdr(PT_INTERP, c.interp_off, c.vaddr + c.interp_off, s.interpreter.size() + 1);
    if (dynamic)
        phdr(PT_DYNAMIC, c.dynamic_off, c.vaddr + c.dynamic_off, ndyn * dynsize);
    if (!s.interpreter.empty())
        o.raw(s.interpreter + std::string(1, '\0'));
    o.raw(strtab);
    o.raw(std::string(c.dynamic_off - o.bytes().size(), '\0'));
    if (dynamic) {
        for (const auto& [tag, val] : dyn) {
            o.word(static_cast<uint64_t>(tag));
            o.word(val);
        }
        o.word(DT_STRTAB);
        o.word(c.vaddr + c.strtab_off);
        o.word(DT_STRSZ);
        o.word(strtab.size());
        o.word(DT_NULL);
        o.word(0);
    }
    c.bytes = std::move(o.bytes());
    return c;
}

// Overwrites a little-endian field in place.
template <class T> void patch(std::string& bytes, uint64_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
}

} // namespace sysext::test

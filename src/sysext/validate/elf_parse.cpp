// Reads what an ELF file says about its loading: class, byte order, machine,
// PT_INTERP and the dynamic section's DT_NEEDED, DT_SONAME, DT_RPATH and
// DT_RUNPATH (System V gABI, <elf.h>). The dynamic section is found and read
// the way ld.so does: through the program headers, with DT_STRTAB mapped from a
// virtual address to a file offset through the PT_LOAD segments.
//
// Input is hostile: every offset and size is checked against the file's size
// before it is read, sizes are capped, and a file that ends early or points
// outside itself is an Input error naming the file, never a crash.
#include "sysext/validate/elf.hpp"

#include "sysext/util/error.hpp"

#include <elf.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

namespace sysext::validate {

namespace {

// Caps far above anything a real linker writes, low enough to bound the work.
constexpr uint64_t k_max_dynamic_bytes = 1 << 20;
constexpr size_t k_max_string = 4096; // PATH_MAX: longer names cannot be opened anyway
constexpr size_t k_max_string_entries = 4096;
constexpr uint32_t k_max_segments = 1 << 16;

// Reads fixed-size records of one ELF class and byte order.
class Reader {
public:
    Reader(const ReadAt& read_at, uint64_t size, const std::string& origin, bool swap)
        : m_read(read_at), m_size(size), m_origin(origin), m_swap(swap) {}

    [[noreturn]] void malformed(const std::string& why) const {
        throw_input(m_origin + ": malformed ELF file: " + why);
    }

    // Checks that [offset, offset+size) lies inside the file before reading it.
    void check_range(uint64_t offset, uint64_t size, const char* what) const {
        if (offset > m_size || size > m_size - offset)
            throw_input(m_origin + ": truncated ELF file: " + what + " at offset " +
                        std::to_string(offset) + " (" + std::to_string(size) +
                        " bytes) ends past the end of the file (" + std::to_string(m_size) +
                        " bytes)");
    }

    void read(uint64_t offset, void* buf, size_t size, const char* what) const {
        check_range(offset, size, what);
        if (m_read(offset, buf, size) != size)
            throw_input(m_origin + ": truncated ELF file: " + what + " at offset " +
                        std::to_string(offset) + " could not be read in full");
    }

    // A field in the file's byte order to the host's.
    template <class T> T fix(T v) const {
        if (!m_swap || sizeof(T) == 1)
            return v;
        unsigned char b[sizeof(T)];
        std::memcpy(b, &v, sizeof v);
        std::reverse(b, b + sizeof b);
        std::memcpy(&v, b, sizeof v);
        return v;
    }

    // A NUL-terminated string at offset, reading no further than `limit`.
    std::string string_at(uint64_t offset, uint64_t limit, const char* what) const {
        limit = std::min(limit, m_size);
        if (offset >= limit)
            malformed(std::string(what) + " at offset " + std::to_string(offset) +
                      " is outside its table");
        std::string out;
        char buf[256];
        while (offset < limit) {
            size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof buf, limit - offset));
            read(offset, buf, n, what);
            const void* nul = std::memchr(buf, '\0', n);
            size_t take = nul ? static_cast<size_t>(static_cast<const char*>(nul) - buf) : n;
            out.append(buf, take);
            if (out.size() > k_max_string)
                malformed(std::string(what) + " at offset " + std::to_string(offset) +
                          " is longer than " + std::to_string(k_max_string) + " bytes");
            if (nul)
                return out;
            offset += n;
        }
        malformed(std::string(what) + " is not terminated inside its table");
    }

    uint64_t size() const { return m_size; }

private:
    const ReadAt& m_read;
    uint64_t m_size;
    const std::string& m_origin;
    bool m_swap;
};

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}

struct Segment {
    uint32_t type;
    uint64_t offset, vaddr, filesz;
};

// File offset of a virtual address, through the PT_LOAD segment holding it.
std::optional<uint64_t> vaddr_to_offset(const std::vector<Segment>& segments, uint64_t vaddr,
                                        uint64_t* room) {
    for (const auto& s : segments) {
        if (s.type != PT_LOAD || vaddr < s.vaddr || vaddr - s.vaddr >= s.filesz)
            continue;
        const uint64_t delta = vaddr - s.vaddr;
        if (delta > UINT64_MAX - s.offset)
            return std::nullopt; // a hostile p_offset; the caller reports it
        *room = s.filesz - delta;
        return s.offset + delta;
    }
    return std::nullopt;
}

template <class Ehdr, class Phdr, class Shdr, class Dyn>
void parse_class(const Reader& r, ElfFile& elf, bool headers_only) {
    Ehdr eh;
    r.read(0, &eh, sizeof eh, "ELF header");
    elf.type = r.fix(eh.e_type);
    elf.machine = r.fix(eh.e_machine);
    if (headers_only)
        return;

    const uint64_t phoff = r.fix(eh.e_phoff);
    uint32_t phnum = r.fix(eh.e_phnum);
    if (phnum == 0)
        return; // relocatable objects and the like: nothing is loaded
    if (r.fix(eh.e_phentsize) != sizeof(Phdr))
        r.malformed("program header entry size " + std::to_string(r.fix(eh.e_phentsize)) +
                    ", expected " + std::to_string(sizeof(Phdr)));
    if (phnum == PN_XNUM) {
        // More program headers than e_phnum holds: the count is in section 0's sh_info.
        Shdr sh0;
        r.read(r.fix(eh.e_shoff), &sh0, sizeof sh0, "section header 0");
        phnum = r.fix(sh0.sh_info);
        if (phnum > k_max_segments)
            r.malformed(std::to_string(phnum) + " program headers");
    }
    r.check_range(phoff, uint64_t{phnum} * sizeof(Phdr), "program headers");

    std::vector<Segment> segments;
    segments.reserve(phnum);
    for (uint32_t i = 0; i < phnum; ++i) {
        Phdr ph;
        r.read(phoff + uint64_t{i} * sizeof ph, &ph, sizeof ph, "program header");
        segments.push_back(
            {r.fix(ph.p_type), r.fix(ph.p_offset), r.fix(ph.p_vaddr), r.fix(ph.p_filesz)});
    }

    const Segment* dynamic = nullptr;
    for (const auto& s : segments) {
        if (s.type == PT_LOAD) {
            // ld.so maps these; a file that ends inside one is cut short.
            r.check_range(s.offset, s.filesz, "PT_LOAD segment");
        } else if (s.type == PT_INTERP) {
            if (!elf.interpreter.empty())
                r.malformed("more than one PT_INTERP");
            r.check_range(s.offset, s.filesz, "PT_INTERP");
            elf.interpreter = r.string_at(s.offset, s.offset + s.filesz, "PT_INTERP");
            if (elf.interpreter.empty())
                r.malformed("empty PT_INTERP");
        } else if (s.type == PT_DYNAMIC) {
            if (dynamic)
                r.malformed("more than one PT_DYNAMIC");
            dynamic = &s;
        }
    }
    if (dynamic == nullptr)
        return; // a static executable

    if (dynamic->filesz > k_max_dynamic_bytes)
        r.malformed("PT_DYNAMIC of " + std::to_string(dynamic->filesz) + " bytes");
    r.check_range(dynamic->offset, dynamic->filesz, "PT_DYNAMIC");
    const size_t count = static_cast<size_t>(dynamic->filesz / sizeof(Dyn));
    if (count == 0)
        return; // an empty dynamic section names nothing
    std::vector<Dyn> dyns(count);
    r.read(dynamic->offset, dyns.data(), count * sizeof(Dyn), "PT_DYNAMIC");

    std::optional<uint64_t> strtab;
    uint64_t strsz = 0;
    bool have_strsz = false;
    std::vector<std::pair<int64_t, uint64_t>> strings; // (tag, offset in the string table)
    std::optional<uint64_t> verneed;                   // DT_VERNEED address
    uint64_t verneed_count = 0;                        // DT_VERNEEDNUM
    for (const Dyn& d : dyns) {
        const int64_t tag = static_cast<int64_t>(r.fix(d.d_tag));
        const uint64_t val = r.fix(d.d_un.d_val);
        if (tag == DT_NULL)
            break;
        if (tag == DT_STRTAB) {
            strtab = val;
        } else if (tag == DT_STRSZ) {
            strsz = val;
            have_strsz = true;
        } else if (tag == DT_VERNEED) {
            verneed = val;
        } else if (tag == DT_VERNEEDNUM) {
            verneed_count = val;
        } else if (tag == DT_NEEDED || tag == DT_SONAME || tag == DT_RPATH || tag == DT_RUNPATH) {
            if (strings.size() >= k_max_string_entries)
                r.malformed("more than " + std::to_string(k_max_string_entries) +
                            " DT_NEEDED/DT_SONAME/DT_RPATH/DT_RUNPATH entries");
            strings.emplace_back(tag, val);
        }
    }
    if (strings.empty())
        return;
    if (!strtab)
        r.malformed("dynamic section has names but no DT_STRTAB");
    uint64_t room = 0;
    std::optional<uint64_t> table = vaddr_to_offset(segments, *strtab, &room);
    if (!table)
        r.malformed("DT_STRTAB address " + hex(*strtab) + " is in no loaded segment");
    if (*table >= r.size())
        r.malformed("DT_STRTAB at offset " + std::to_string(*table) + " is outside the file");
    // The table ends at DT_STRSZ, its segment's end or the file's end, whichever is first.
    uint64_t avail = std::min(room, r.size() - *table);
    if (have_strsz)
        avail = std::min(avail, strsz);

    std::vector<std::string> rpath, runpath;
    for (const auto& [tag, off] : strings) {
        if (off >= avail)
            r.malformed("string offset " + std::to_string(off) + " past the string table (" +
                        std::to_string(avail) + " bytes)");
        const char* what = tag == DT_NEEDED   ? "DT_NEEDED"
                           : tag == DT_SONAME ? "DT_SONAME"
                           : tag == DT_RPATH  ? "DT_RPATH"
                                              : "DT_RUNPATH";
        std::string s = r.string_at(*table + off, *table + avail, what);
        if (tag == DT_NEEDED) {
            if (s.empty())
                r.malformed("empty DT_NEEDED name");
            elf.needed.push_back(std::move(s));
        } else if (tag == DT_SONAME) {
            elf.soname = std::move(s);
        } else {
            // A search path is a colon-separated list; an empty entry means the
            // working directory, which says nothing about the installed system.
            auto& list = tag == DT_RPATH ? rpath : runpath;
            size_t start = 0;
            for (;;) {
                size_t colon = s.find(':', start);
                std::string part =
                    s.substr(start, colon == std::string::npos ? colon : colon - start);
                if (!part.empty())
                    list.push_back(part);
                if (colon == std::string::npos)
                    break;
                start = colon + 1;
            }
        }
    }
    // ld.so ignores DT_RPATH when DT_RUNPATH is present.
    elf.runpath_is_rpath = runpath.empty() && !rpath.empty();
    elf.runpath = runpath.empty() ? std::move(rpath) : std::move(runpath);

    // Symbol versions needed (.gnu.version_r): Elf_Verneed records, each with
    // its Elf_Vernaux entries; the same layout in both classes.
    if (!verneed || verneed_count == 0)
        return;
    if (verneed_count > k_max_string_entries)
        r.malformed(std::to_string(verneed_count) + " DT_VERNEEDNUM entries");
    uint64_t verneed_room = 0;
    std::optional<uint64_t> at = vaddr_to_offset(segments, *verneed, &verneed_room);
    if (!at)
        r.malformed("DT_VERNEED address " + hex(*verneed) + " is in no loaded segment");
    // A name in DT_STRTAB, by its offset.
    auto dynstr = [&](uint64_t off, const char* what) {
        if (off >= avail)
            r.malformed(std::string(what) + " past the string table");
        return r.string_at(*table + off, *table + avail, what);
    };
    size_t entries = 0;
    uint64_t need = *at;
    for (uint64_t i = 0; i < verneed_count; ++i) {
        static_assert(sizeof(Elf64_Verneed) == sizeof(Elf32_Verneed) &&
                          sizeof(Elf64_Vernaux) == sizeof(Elf32_Vernaux),
                      "one layout for both classes");
        Elf64_Verneed vn;
        r.read(need, &vn, sizeof vn, "Elf_Verneed");
        const std::string file = dynstr(r.fix(vn.vn_file), "Elf_Verneed file name");
        uint64_t aux = need + r.fix(vn.vn_aux);
        for (uint32_t j = 0; j < r.fix(vn.vn_cnt); ++j) {
            if (++entries > k_max_string_entries)
                r.malformed("more than " + std::to_string(k_max_string_entries) +
                            " symbol versions needed");
            Elf64_Vernaux vna;
            r.read(aux, &vna, sizeof vna, "Elf_Vernaux");
            elf.version_needs.emplace_back(file, dynstr(r.fix(vna.vna_name), "Elf_Vernaux name"));
            if (r.fix(vna.vna_next) == 0)
                break;
            aux += r.fix(vna.vna_next);
        }
        if (r.fix(vn.vn_next) == 0)
            break;
        need += r.fix(vn.vn_next);
    }
}

} // namespace

std::optional<ElfFile> parse_elf(const ReadAt& read_at, uint64_t file_size,
                                 const std::string& origin, bool headers_only) {
    unsigned char ident[EI_NIDENT] = {};
    if (file_size < SELFMAG)
        return std::nullopt;
    if (read_at(0, ident, SELFMAG) != SELFMAG || std::memcmp(ident, ELFMAG, SELFMAG) != 0)
        return std::nullopt;
    if (file_size < EI_NIDENT || read_at(0, ident, EI_NIDENT) != EI_NIDENT)
        throw_input(origin + ": truncated ELF file: " + std::to_string(file_size) +
                    " bytes, shorter than the ELF identification");

    ElfFile elf;
    if (ident[EI_CLASS] != ELFCLASS32 && ident[EI_CLASS] != ELFCLASS64)
        throw_input(origin + ": malformed ELF file: unknown class " +
                    std::to_string(ident[EI_CLASS]));
    if (ident[EI_DATA] != ELFDATA2LSB && ident[EI_DATA] != ELFDATA2MSB)
        throw_input(origin + ": malformed ELF file: unknown byte order " +
                    std::to_string(ident[EI_DATA]));
    elf.is_64 = ident[EI_CLASS] == ELFCLASS64;
    elf.little_endian = ident[EI_DATA] == ELFDATA2LSB;
    const bool host_little = std::endian::native == std::endian::little;
    Reader r(read_at, file_size, origin, elf.little_endian != host_little);
    if (elf.is_64)
        parse_class<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr, Elf64_Dyn>(r, elf, headers_only);
    else
        parse_class<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr, Elf32_Dyn>(r, elf, headers_only);
    return elf;
}

} // namespace sysext::validate

// The ELF check of an assembled tree: every ELF file's machine matches the
// extension's ARCHITECTURE, its interpreter exists, and every DT_NEEDED library
// is found where the dynamic linker of a host with the extension merged into
// /usr would look (RPATH/RUNPATH, the base system's ld.so.conf directories, the
// default multiarch and standard directories).
//
// Formats: the System V gABI ELF header, program headers and dynamic section
// (<elf.h>); the search order of glibc's ld.so(8); systemd's architecture names
// (the ARCHITECTURE= field of extension-release, see specs/sysext.md).
#pragma once

#include "sysext/tree/tree.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sysext::validate {

// What one ELF file says about itself.
struct ElfFile {
    uint16_t type = 0;    // e_type (ET_EXEC, ET_DYN, ET_REL ...)
    uint16_t machine = 0; // e_machine
    bool is_64 = false;
    bool little_endian = true;
    std::string interpreter;          // PT_INTERP, "" if none
    std::vector<std::string> needed;  // DT_NEEDED in order
    std::vector<std::string> runpath; // DT_RUNPATH, or DT_RPATH when there is no RUNPATH
    bool runpath_is_rpath = false;    // the entries came from DT_RPATH
    std::string soname;               // DT_SONAME
    // DT_VERNEED: the symbol versions it needs, as (library, version) pairs:
    // ("libc.so.6", "GLIBC_2.38"), in the file's order.
    std::vector<std::pair<std::string, std::string>> version_needs;
};

// Reads up to size bytes at offset into buf and returns how many it read
// (fewer only at the end of the file).
using ReadAt = std::function<size_t(uint64_t offset, void* buf, size_t size)>;

// Parses an ELF file's headers; nullopt if the file is not ELF (no magic).
// Throws Input naming `origin` for a truncated or malformed ELF file: every
// offset and size is checked against the file, so hostile input cannot make it
// read out of bounds or allocate without limit. With headers_only, stops after
// the ELF header (machine, class, byte order, type).
std::optional<ElfFile> parse_elf(const ReadAt& read_at, uint64_t file_size,
                                 const std::string& origin, bool headers_only = false);

// What a systemd architecture name implies about ELF files.
struct ElfArch {
    std::vector<uint16_t> machines; // e_machine values that run on it
    bool is_64 = false;
    int little_endian = -1; // 1, 0, or -1 when the architecture name does not say
};

// "x86-64", "arm64", "riscv64", "ppc64-le", "s390x" ... to the ELF machine and
// class; nullopt for "_any", "" or an unknown name.
std::optional<ElfArch> elf_arch(const std::string& systemd_name);
// Every architecture name elf_arch() knows, for "did you mean" suggestions.
std::vector<std::string> known_architectures();
// "AArch64", "x86-64", "Intel 80386" ... or "machine 0x1234" for unknown values.
std::string machine_name(uint16_t machine);

// What the target base system provides: a root directory (read lazily, symlinks
// inside it followed without ever leaving it) or a listing of paths.
class BaseLibraries {
public:
    // A base root such as a debootstrap directory or a mounted image. Reads the
    // root's /etc/ld.so.conf (and its includes) for the directories that the
    // linker's cache covers. Throws Input if root_dir is not a directory.
    static BaseLibraries from_root(const std::string& root_dir);
    // One absolute path per line, e.g. `find / -name '*.so*'` run on the base;
    // blank lines and lines starting with '#' are ignored. A listing carries no
    // symlinks, so it is taken as a merged-/usr system: /lib/x, /lib64/x, /bin/x
    // and /sbin/x are the same as /usr/lib/x, /usr/lib64/x, /usr/bin/x, /usr/sbin/x.
    static BaseLibraries from_listing(const std::string& listing_file);

    // Whether an absolute path names a file in the base (following symlinks).
    bool has(const std::string& absolute_path) const;

    // One path component's entry, with no symlink followed. `path` is relative
    // ("usr/lib/x") and every component before the last is a real directory.
    enum class Kind { None, Directory, File, Symlink };
    struct Entry {
        Kind kind = Kind::None;
        std::string target; // Symlink
    };
    Entry entry(const std::string& path) const;
    // Where a base file's bytes can be read ("" for a listing).
    std::string disk_path(const std::string& path) const;
    // Absolute directories the base's ld.so.conf names (searched through its cache).
    const std::vector<std::string>& conf_dirs() const { return m_conf_dirs; }
    // "root DIR" or "listing FILE", for messages.
    const std::string& description() const { return m_description; }

private:
    std::string m_root;                    // "" for a listing
    std::set<std::string> m_files, m_dirs; // a listing, merged-/usr normalised
    std::vector<std::string> m_conf_dirs;
    std::string m_description;
};

struct ElfCheckOptions {
    std::string architecture;            // systemd name; "" or "_any": no machine check
    const BaseLibraries* base = nullptr; // null: only the extension's own files count
    // The oldest glibc the image promises to run with ("2.36"): a GLIBC_x.y
    // symbol version needed beyond it is a problem. "" = not stated.
    std::string glibc;
    // An image for any host (ID=_any): a dynamically linked file is a problem
    // unless `glibc` is stated, since such a file runs only where the libraries
    // it was linked against exist at the versions it needs.
    bool any_host = false;
    // false: only machines and symbol versions, no library lookup (no base).
    bool libraries = true;
};

struct ElfReport {
    uint64_t checked = 0;   // regular files read
    uint64_t elf_files = 0; // of which ELF
    uint64_t skipped = 0;   // contents only readable as a stream: not checked
    std::vector<std::string> problems;
};

// Checks every regular file of a finalized tree. Problems are listed in tree
// order; parsing errors of single files become problems too. Throws Input for an
// unknown architecture name.
ElfReport check_elf(const tree::Tree& tree, const ElfCheckOptions& options);

} // namespace sysext::validate

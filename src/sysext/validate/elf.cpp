// The ELF check of an assembled tree (see elf.hpp). Each ELF file's needs are
// looked up the way glibc's ld.so(8) would on a host with the extension merged:
//   1. DT_RPATH, when there is no DT_RUNPATH;
//   2. DT_RUNPATH ($ORIGIN is the object's own directory);
//   3. the base system's ld.so.cache, i.e. the directories of its ld.so.conf
//      (the cache is the base's: files the extension adds there are not in it);
//   4. the default directories of the object's ABI (elf_view.hpp).
// Like ld.so, a candidate of another machine or class is skipped and the search
// goes on. Each object is checked with its own search path only: an RPATH
// inherited from the executable that loads a library is not taken into account,
// but a library's need that the extension itself holds under that name passes
// (it may already be loaded; see find_library).
#include "sysext/validate/elf.hpp"
#include "sysext/validate/elf_view.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <tuple>

namespace sysext::validate {

namespace {

// A reader for a file on disk; opened without following a symlink swapped in.
ReadAt disk_reader(const std::string& path, std::shared_ptr<Fd>& fd) {
    fd = std::make_shared<Fd>(open_or_throw(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    return [fd, path](uint64_t offset, void* buf, size_t size) {
        return pread_full(fd->get(), buf, size, static_cast<off_t>(offset), path);
    };
}

// A reader for a tree file's content; nullopt for contents only readable as a stream.
std::optional<ReadAt> content_reader(const tree::Node& file, std::shared_ptr<Fd>& fd) {
    const tree::Content& c = file.content;
    switch (c.kind) {
    case tree::Content::Kind::Empty:
        return ReadAt([](uint64_t, void*, size_t) { return size_t{0}; });
    case tree::Content::Kind::Inline: {
        auto bytes = c.bytes;
        return ReadAt([bytes](uint64_t offset, void* buf, size_t size) {
            if (offset >= bytes->size() || size == 0)
                return size_t{0};
            size_t n = std::min<uint64_t>(size, bytes->size() - offset);
            std::memcpy(buf, bytes->data() + offset, n);
            return n;
        });
    }
    case tree::Content::Kind::Disk:
        return disk_reader(c.disk_path, fd);
    case tree::Content::Kind::Stream:
        return std::nullopt;
    }
    return std::nullopt;
}

std::string describe(const ElfFile& e) {
    return machine_name(e.machine) + (e.is_64 ? ", 64-bit" : ", 32-bit") +
           (e.little_endian ? "" : ", big-endian");
}

// Firmware runs on devices, not the CPU; BPF objects are loaded into the kernel.
bool exempt_from_machine(const std::string& path, const ElfFile& elf) {
    return elf.machine == EM_BPF || starts_with(path, "usr/lib/firmware/");
}

class Checker {
public:
    Checker(const tree::Tree& tree, const ElfCheckOptions& options, std::optional<ElfArch> arch)
        : m_options(options), m_arch(std::move(arch)), m_merged(&tree, options.base),
          m_base_only(nullptr, options.base) {}

    ElfReport report;

    // First pass: read every file's headers, and note which names the
    // extension's shared objects answer to.
    void scan(const tree::Node& node) {
        if (!node.is_file())
            return;
        Scanned s{node.path(), std::nullopt, ""};
        try {
            std::shared_ptr<Fd> fd;
            std::optional<ReadAt> read = content_reader(node, fd);
            if (!read) {
                ++report.skipped;
                return;
            }
            ++report.checked;
            // Separate debug files keep program headers whose data they do not hold.
            s.elf = parse_elf(*read, node.content.size, s.path, is_debug_file(s.path));
            if (!s.elf)
                return;
            ++report.elf_files;
            if (s.elf->type == ET_DYN)
                m_provided[s.elf->soname.empty() ? node.name : s.elf->soname].push_back(
                    abi_of(*s.elf));
        } catch (const Error& e) {
            s.error = e.what();
        }
        m_scanned.push_back(std::move(s));
    }

    // Second pass: the problems of each file, in tree order.
    void check_all() {
        std::vector<std::string> dynamic; // linked against libraries: for ID=_any
        for (const Scanned& s : m_scanned) {
            if (!s.error.empty()) {
                report.problems.push_back(s.error);
            } else if (check_machine(s.path, *s.elf) && !is_debug_file(s.path)) {
                if (m_options.libraries)
                    check_loading(s.path, *s.elf);
                check_glibc(s.path, *s.elf);
                if (!s.elf->needed.empty())
                    dynamic.push_back(s.path);
            }
        }
        if (m_options.any_host && m_options.glibc.empty() && !dynamic.empty()) {
            std::string names;
            for (size_t i = 0; i < dynamic.size() && i < 5; ++i)
                names += (i ? ", " : "") + dynamic[i];
            if (dynamic.size() > 5)
                names += " and " + std::to_string(dynamic.size() - 5) + " more";
            report.problems.push_back(
                "an image for any host (ID=_any) holds " + std::to_string(dynamic.size()) +
                " dynamically linked files (" + names +
                "): they run only where the libraries they were linked against exist, at the "
                "symbol versions they need; state the oldest glibc the image supports (\"glibc\" "
                "in the profile's target) or build for a named ID");
        }
    }

private:
    bool check_machine(const std::string& path, const ElfFile& elf) {
        if (!m_arch || exempt_from_machine(path, elf))
            return true;
        const std::string want = "ARCHITECTURE=" + m_options.architecture;
        const auto& machines = m_arch->machines;
        if (std::find(machines.begin(), machines.end(), elf.machine) == machines.end())
            report.problems.push_back(path + ": machine " + machine_name(elf.machine) +
                                      " does not match " + want);
        else if (elf.is_64 != m_arch->is_64)
            report.problems.push_back(path + ": " + (elf.is_64 ? "64" : "32") + "-bit " +
                                      machine_name(elf.machine) + " code does not match " + want +
                                      " (" + (m_arch->is_64 ? "64" : "32") + "-bit)");
        else if (m_arch->little_endian >= 0 && int{elf.little_endian} != m_arch->little_endian)
            report.problems.push_back(path + ": " + (elf.little_endian ? "little" : "big") +
                                      "-endian code does not match " + want);
        else
            return true;
        return false;
    }

    std::string nowhere() const {
        return m_options.base ? "found neither in the extension nor in the base system"
                              : "not found in the extension (no base system given)";
    }

    // GLIBC_x.y symbol versions beyond the glibc the image promises. One line
    // per file, naming the newest version it needs.
    void check_glibc(const std::string& path, const ElfFile& elf) {
        if (m_options.glibc.empty())
            return;
        const std::vector<unsigned> promised = version_numbers(m_options.glibc);
        std::string newest, from;
        std::vector<unsigned> newest_numbers = promised;
        for (const auto& [lib, version] : elf.version_needs) {
            if (version.rfind("GLIBC_", 0) != 0)
                continue;
            const std::vector<unsigned> v = version_numbers(version.substr(6));
            if (v > newest_numbers) {
                newest_numbers = v;
                newest = version;
                from = lib;
            }
        }
        if (!newest.empty())
            report.problems.push_back(path + ": needs " + newest + " (of " + from +
                                      "), newer than the glibc " + m_options.glibc +
                                      " the image promises to run with");
    }

    // "2.38" -> {2, 38}; non-digits end a number ("2.3.4a" -> {2, 3, 4}).
    static std::vector<unsigned> version_numbers(const std::string& text) {
        std::vector<unsigned> out;
        unsigned n = 0;
        bool in_number = false;
        for (char c : text) {
            if (c >= '0' && c <= '9' && n < 100000) {
                n = n * 10 + static_cast<unsigned>(c - '0');
                in_number = true;
            } else if (c == '.') {
                out.push_back(n);
                n = 0;
                in_number = false;
            } else {
                break;
            }
        }
        if (in_number || out.empty())
            out.push_back(n);
        return out;
    }

    void check_loading(const std::string& path, const ElfFile& elf) {
        std::string why;
        if (!elf.interpreter.empty() && !find_compatible(m_merged, elf.interpreter, elf, why))
            report.problems.push_back(path + ": interpreter " + elf.interpreter + " " + nowhere() +
                                      why);
        if (elf.needed.empty())
            return;
        const std::vector<std::string> dirs = search_dirs(path, elf);
        for (const auto& lib : elf.needed) {
            why.clear();
            if (!find_library(lib, dirs, elf, why))
                report.problems.push_back(path + ": needs " + lib + ", " + nowhere() + why);
        }
    }

    bool find_library(const std::string& lib, const std::vector<std::string>& dirs,
                      const ElfFile& elf, std::string& why) {
        if (search(lib, dirs, elf, why))
            return true;
        // A library (no interpreter of its own) is loaded by a program, and ld.so
        // takes an object already loaded under the same name before it searches:
        // plugins that need their program's private libraries (libjvm.so,
        // libsystemd-shared) work that way. Accept a library the extension holds.
        if (!elf.interpreter.empty() || elf.type != ET_DYN)
            return false;
        auto it = m_provided.find(lib);
        return it != m_provided.end() &&
               std::find(it->second.begin(), it->second.end(), abi_of(elf)) != it->second.end();
    }

    bool search(const std::string& lib, const std::vector<std::string>& dirs, const ElfFile& elf,
                std::string& why) {
        if (lib.find('/') != std::string::npos) {
            // A path: absolute ones are opened as they are; relative ones depend on
            // the working directory and cannot be judged.
            return lib[0] != '/' || find_compatible(m_merged, lib, elf, why);
        }
        for (const auto& dir : dirs)
            if (find_compatible(m_merged, dir + "/" + lib, elf, why))
                return true;
        if (m_options.base)
            for (const auto& dir : m_options.base->conf_dirs())
                if (find_compatible(m_base_only, dir + "/" + lib, elf, why))
                    return true;
        return false;
    }

    // RPATH or RUNPATH with $ORIGIN and $LIB expanded, then the ABI's default dirs.
    std::vector<std::string> search_dirs(const std::string& path, const ElfFile& elf) {
        std::vector<std::string> dirs;
        const size_t slash = path.rfind('/');
        const std::string origin = "/" + (slash == std::string::npos ? "" : path.substr(0, slash));
        const std::vector<std::string> defaults = default_library_dirs(elf);
        for (const auto& entry : elf.runpath) {
            std::vector<std::string> expanded{entry};
            for (auto [token, values] : {
                     std::pair<std::string, std::vector<std::string>>{"ORIGIN", {origin}},
                     {"LIB", lib_names(defaults)},
                     {"PLATFORM", {}}, // unknown here: the entry is left out
                 }) {
                std::vector<std::string> next;
                for (const auto& e : expanded)
                    substitute(e, token, values, next);
                expanded = std::move(next);
            }
            for (auto& e : expanded)
                if (!e.empty() && e[0] == '/') // relative entries depend on the working directory
                    dirs.push_back(std::move(e));
        }
        dirs.insert(dirs.end(), defaults.begin(), defaults.end());
        return dirs;
    }

    // What $LIB may stand for: "lib", "lib64", "lib/<multiarch tuple>".
    static std::vector<std::string> lib_names(const std::vector<std::string>& defaults) {
        std::vector<std::string> names;
        for (const auto& d : defaults)
            if (starts_with(d, "/usr/"))
                names.push_back(d.substr(5));
        return names;
    }

    // Replaces $TOKEN and ${TOKEN} in s by each value in turn.
    static void substitute(const std::string& s, const std::string& token,
                           const std::vector<std::string>& values, std::vector<std::string>& out) {
        for (const std::string& form : {"${" + token + "}", "$" + token}) {
            size_t at = s.find(form);
            if (at == std::string::npos)
                continue;
            if (form[1] != '{' && at + form.size() < s.size() &&
                (std::isalnum(static_cast<unsigned char>(s[at + form.size()])) ||
                 s[at + form.size()] == '_'))
                continue; // "$ORIGINAL" is no $ORIGIN
            for (const auto& v : values) {
                std::string with = s.substr(0, at) + v + s.substr(at + form.size());
                substitute(with, token, {v}, out);
            }
            return;
        }
        out.push_back(s);
    }

    // Whether the path names a file ld.so would load for `user`: an ELF object
    // of the same machine, class and byte order. Notes a mismatch in `why`.
    bool find_compatible(const MergedView& view, const std::string& path, const ElfFile& user,
                         std::string& why) {
        auto found = cached_find(view, path);
        if (!found)
            return false;
        std::optional<ElfFile> header = header_of(*found);
        if (!header)
            return true; // unreadable here (a listing, a stream): its presence has to do
        if (header->machine == user.machine && header->is_64 == user.is_64 &&
            header->little_endian == user.little_endian)
            return true;
        if (why.empty())
            why = " (" + found->path + " is " +
                  (header->machine == 0 ? std::string("not a loadable ELF object")
                                        : describe(*header)) +
                  ")";
        return false;
    }

    std::optional<FoundFile> cached_find(const MergedView& view, const std::string& path) {
        auto& cache = &view == &m_merged ? m_found_merged : m_found_base;
        auto it = cache.find(path);
        if (it == cache.end())
            it = cache.emplace(path, view.find_file(path)).first;
        return it->second;
    }

    // The candidate's ELF header; nullopt when it cannot be read here. A file
    // that is not ELF or not readable gets machine 0, which matches nothing.
    std::optional<ElfFile> header_of(const FoundFile& f) {
        const std::string key = f.node ? "tree:" + f.node->path() : "base:" + f.base_path;
        if (auto it = m_headers.find(key); it != m_headers.end())
            return it->second;
        std::optional<ElfFile> header;
        try {
            std::shared_ptr<Fd> fd;
            std::optional<ReadAt> read;
            uint64_t size = 0;
            if (f.node) {
                read = content_reader(*f.node, fd);
                size = f.node->content.size;
            } else if (!m_options.base->disk_path(f.base_path).empty()) {
                const std::string disk = m_options.base->disk_path(f.base_path);
                read = disk_reader(disk, fd);
                struct stat st;
                size = ::fstat(fd->get(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
            }
            if (read)
                header = parse_elf(*read, size, key, true).value_or(ElfFile{});
        } catch (const Error&) {
            header = ElfFile{};
        }
        m_headers.emplace(key, header);
        return header;
    }

    struct Scanned {
        std::string path;
        std::optional<ElfFile> elf; // set unless error is
        std::string error;
    };
    // Machine, class and byte order: what must agree for ld.so to load an object.
    using Abi = std::tuple<uint16_t, bool, bool>;
    static Abi abi_of(const ElfFile& e) { return {e.machine, e.is_64, e.little_endian}; }
    static bool is_debug_file(const std::string& path) {
        return starts_with(path, "usr/lib/debug/");
    }

    std::vector<Scanned> m_scanned;
    std::map<std::string, std::vector<Abi>> m_provided; // shared objects by soname or file name
    const ElfCheckOptions& m_options;
    std::optional<ElfArch> m_arch;
    MergedView m_merged, m_base_only;
    std::map<std::string, std::optional<FoundFile>> m_found_merged, m_found_base;
    std::map<std::string, std::optional<ElfFile>> m_headers;
};

} // namespace

ElfReport check_elf(const tree::Tree& tree, const ElfCheckOptions& options) {
    std::optional<ElfArch> arch;
    if (!options.architecture.empty() && options.architecture != "_any") {
        arch = elf_arch(options.architecture);
        if (!arch) {
            std::string hint = nearest(options.architecture, known_architectures());
            throw_input("ARCHITECTURE=" + options.architecture + ": unknown architecture" +
                        (hint.empty() ? "" : " (did you mean " + quote(hint) + "?)"));
        }
    }
    Checker checker(tree, options, std::move(arch));
    tree.walk([&](const tree::Node& n) { checker.scan(n); });
    checker.check_all();
    return std::move(checker.report);
}

} // namespace sysext::validate

// The file system a host sees once systemd-sysext has merged the extension:
// the base root, with /usr and /opt overlaid by the extension's usr/ and opt/
// (overlayfs: an upper entry hides a lower one, two directories merge). Paths
// are resolved one component at a time, following symbolic links of either
// layer, so a lookup never leaves the base root or the tree.
#pragma once

#include "sysext/tree/tree.hpp"
#include "sysext/validate/elf.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysext::validate {

struct FoundFile {
    const tree::Node* node = nullptr; // a regular file of the extension
    std::string base_path;            // else the file's relative path in the base
    std::string path;                 // the resolved absolute path, for messages
};

class MergedView {
public:
    // Either layer may be missing (null).
    MergedView(const tree::Tree* tree, const BaseLibraries* base) : m_tree(tree), m_base(base) {}

    // The regular file an absolute path names, symlinks followed (at most 40, as
    // the kernel allows); nullopt when it is missing, a directory or a loop.
    std::optional<FoundFile> find_file(std::string_view absolute_path) const {
        return resolve(absolute_path, false);
    }
    // The same for a directory: node is the extension's directory (or null) and
    // base_path is set when the base has it too.
    std::optional<FoundFile> find_dir(std::string_view absolute_path) const {
        return resolve(absolute_path, true);
    }

private:
    std::optional<FoundFile> resolve(std::string_view absolute_path, bool want_dir) const;

    const tree::Tree* m_tree;
    const BaseLibraries* m_base;
};

// The directories ld.so searches last for an object of this ABI: its multiarch
// directories, /lib64 and /usr/lib64 where the ABI uses them, the biarch
// /lib32 or /libx32 for 32-bit x86, /lib and /usr/lib.
std::vector<std::string> default_library_dirs(const ElfFile& elf);

} // namespace sysext::validate

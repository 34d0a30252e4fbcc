// A Debian Packages index: which .deb files exist, at which versions, and what
// they depend on.
//
// Reads the binary index format (wiki.debian.org/DebianRepository/Format,
// "Packages Indices") for one architecture: each stanza's Package, Version,
// Architecture, Filename, SHA256, Size, Depends, Pre-Depends and Provides.
// Chooses a package by name and version pattern (version.hpp), and closes a set
// of packages over their dependencies, stopping at the packages a base system is
// assumed to have, which is how an extension knows the libraries it must carry.
#pragma once

#include "sysext/source/debian_control.hpp"
#include "sysext/source/version.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sysext::source {

struct DebPackage {
    std::string name;
    DebianVersion version;
    std::string architecture; // the index's architecture or "all"
    std::string filename;     // relative to the mirror: "pool/main/p/podman/..."
    std::string sha256;
    uint64_t size = 0;
    std::vector<DependencyGroup> depends;    // Pre-Depends, then Depends
    std::vector<DependencyGroup> recommends; // not followed unless a profile names them
    std::vector<Dependency> provides;
    std::string priority; // "required", "important", "optional", ...
    bool essential = false;
    std::string origin; // "index:line", for messages
};

// The packages assumed installed on the base system: dependencies on them stop
// there. A version, when known, must satisfy the dependency; a base that is too
// old is an error, not a reason to carry the package in an extension.
struct BaseSystem {
    std::map<std::string, std::optional<DebianVersion>> packages;
    std::string origin; // for messages: a file name or "--assume-installed"

    void add(const std::string& name, std::optional<DebianVersion> version = std::nullopt);
    void merge(const BaseSystem& other);
    bool has(const std::string& name) const { return packages.count(name) != 0; }
};

// Reads a root directory's dpkg status, or a file: either a list (one package
// per line, "name[:arch] [version]" as `dpkg-query -W` prints it; "#" comments)
// or a dpkg status file (installed packages with their versions, and the names
// they provide).
BaseSystem read_base_system(const std::string& path);
BaseSystem parse_base_system(const std::string& text, const std::string& origin);

class PackageIndex {
public:
    explicit PackageIndex(std::string architecture) : m_architecture(std::move(architecture)) {}

    // Adds the stanzas of one Packages text for this architecture (and "all").
    // A stanza already present (same name, version, architecture) is skipped.
    void add(std::string_view text, const std::string& origin);

    // The highest version of `name` that the pattern matches. Throws Input
    // naming the package, the pattern and what exists (with a did-you-mean).
    const DebPackage& choose(const std::string& name, const VersionPattern& pattern) const;

    // The packages `roots` need, roots included, closed over Pre-Depends and
    // Depends; a dependency the base system has stops the walk. Among
    // alternatives the first one present wins; among versions the highest that
    // fits. Sorted by name. Throws Input naming the package whose dependency
    // nothing satisfies.
    std::vector<const DebPackage*> resolve(const std::vector<const DebPackage*>& roots,
                                           const BaseSystem& base) const;

    // The package that fills a recommendation of one of `chosen` named `name`
    // (an alternative's name or a virtual package's), or nullptr when none of
    // them recommends it.
    const DebPackage* recommended(const std::vector<const DebPackage*>& chosen,
                                  const std::string& name) const;

    // Recommendations of `chosen` that neither `chosen` nor the base fills:
    // "nftables (recommended by netavark 1.14.0-2)", sorted.
    std::vector<std::string> unmet_recommends(const std::vector<const DebPackage*>& chosen,
                                              const BaseSystem& base) const;

    // What `debootstrap --variant=minbase` installs from this index: every
    // Essential or Priority: required package and apt, with their dependencies.
    // An extension for such a base must carry everything else it needs.
    BaseSystem minbase() const;

    size_t size() const { return m_packages.size(); }
    const std::string& architecture() const { return m_architecture; }

private:
    const DebPackage* best_for(const Dependency& dep) const;

    std::string m_architecture;
    std::vector<DebPackage> m_packages;
    std::unordered_map<std::string, std::vector<size_t>> m_by_name;
    std::unordered_map<std::string, std::vector<size_t>> m_providers;
};

// Decompresses an index file (xz, gzip, bzip2, zstd or plain, told by content)
// into memory, refusing more than max_size bytes.
std::string read_index_file(const std::string& path, const std::string& origin, uint64_t max_size);

} // namespace sysext::source

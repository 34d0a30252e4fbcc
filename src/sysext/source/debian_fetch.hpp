// Fetching a set of .deb packages from a Debian archive, or exactly those a lock
// file names: the whole "Debian source" step in one call.
//
// With a request, the mirror and suite come from the request or, failing that,
// from the host's apt sources (debian_apt.hpp); the archive's signed indices
// pick each package's version (debian_repo.hpp) and, when asked, the packages
// they depend on that the base system lacks. With a lock file, no index is read:
// each .deb is fetched by its recorded SHA-256 and size.
#pragma once

#include "sysext/source/debian_packages.hpp"
#include "sysext/source/fetch.hpp"
#include "sysext/source/lock.hpp"
#include "sysext/source/version.hpp"

#include <string>
#include <vector>

namespace sysext::source {

struct PackageRequest {
    std::string name;
    VersionPattern pattern = VersionPattern::latest();
};
// "podman=5.x" or "podman" (latest); throws Usage on a bad name or pattern.
PackageRequest parse_package_request(const std::string& text);

struct DebFetchRequest {
    std::string mirror;                  // "" -> from the apt sources
    std::string suite;                   // "" -> from the apt sources
    std::vector<std::string> components; // empty -> from the apt source, else "main"
    std::string architecture = "amd64";
    std::string keyring; // "" -> the Debian archive keyring
    std::vector<PackageRequest> packages;
    bool with_depends = false;
    // Recommended packages to take along (with their dependencies): each must
    // be recommended by a package taken; the others are reported as left out.
    std::vector<std::string> recommends;
    BaseSystem base;           // where the dependency walk stops
    bool base_minbase = false; // the base also has the suite's minbase
    std::string apt_root = "/";
};

struct FetchedDeb {
    LockEntry entry;  // kind "deb"
    std::string path; // the verified file in the download cache
    bool from_cache = false;
};

struct DebFetchResult {
    std::string mirror;
    std::string suite;
    std::vector<FetchedDeb> debs; // sorted by name
    // With dependencies: recommendations nothing taken fills, as
    // "nftables (recommended by netavark 1.14.0-2)".
    std::vector<std::string> left_out_recommends;
};

DebFetchResult fetch_debs(const DebFetchRequest& request, Fetcher& fetcher, Reporter& reporter);

// The lock's "deb" entries (only those named in `names` when it is not empty),
// from `mirror` when given, else from each entry's URL.
DebFetchResult fetch_locked_debs(const LockFile& lock, const std::vector<std::string>& names,
                                 const std::string& mirror, Fetcher& fetcher, Reporter& reporter);

} // namespace sysext::source

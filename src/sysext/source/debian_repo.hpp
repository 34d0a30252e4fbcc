// A Debian archive as a package source: the signed index of one suite and
// architecture, and the verified .deb files it names.
//
// load() fetches dists/SUITE/InRelease, has gpgv check it (debian_release.hpp),
// checks that it describes the suite asked for, then fetches each component's
// binary-ARCH Packages index (xz, gzip or plain, whichever the Release lists
// first) pinned by the Release's SHA-256, through the content-addressed cache
// (fetch.hpp). Every .deb is then fetched pinned by its index SHA-256.
#pragma once

#include "sysext/source/debian_packages.hpp"
#include "sysext/source/debian_release.hpp"
#include "sysext/source/fetch.hpp"

#include <string>
#include <vector>

namespace sysext::source {

struct DebianRepoOptions {
    std::string mirror; // MIRROR_URL/debian (from apt or a flag), no trailing slash
    std::string suite;  // "trixie"
    std::vector<std::string> components{"main"};
    std::string architecture = "amd64";
    std::string keyring = k_debian_keyring;
    uint64_t max_index_size = uint64_t{1} << 30; // decompressed Packages text
};

class DebianRepo {
public:
    DebianRepo(DebianRepoOptions options, Fetcher& fetcher);

    // Fetches and verifies InRelease and the Packages indices.
    void load();

    const ReleaseFile& release() const { return m_release; }
    const PackageIndex& index() const { return m_index; }
    const DebianRepoOptions& options() const { return m_options; }

    // The mirror URL of a package's file.
    std::string url_of(const DebPackage& p) const { return m_options.mirror + "/" + p.filename; }
    // Fetches a .deb pinned by its SHA-256 and size, through the cache.
    FetchResult download(const DebPackage& p);

private:
    std::string dists_url(const std::string& path) const;
    FetchResult fetch_index(const std::string& path, const IndexFile& entry);

    DebianRepoOptions m_options;
    Fetcher& m_fetcher;
    ReleaseFile m_release;
    PackageIndex m_index;
};

// Debian's architecture names ("amd64", "arm64", ...); throws Usage for others,
// with a did-you-mean.
void check_debian_architecture(const std::string& arch);

} // namespace sysext::source

// `sysext-build build PROFILE`: a profile and a version pattern in; an image,
// its lock file and a summary out.
//
// Stages (build.cpp): load the profile; resolve and fetch its sources (pinned by
// a lock file when given); assemble the tree (sources, excludes, moves, modes,
// generated files, links); add the extension-release file; check components,
// the tree and the ELF files; pack atomically; write the lock file last.
#pragma once

#include "sysext/pipeline/image_format.hpp"
#include "sysext/util/reporter.hpp"

#include <map>
#include <string>
#include <vector>

namespace sysext::pipeline {

struct BuildOptions {
    std::string profile;              // path of the profile file
    std::string target;               // "" = the profile's default target
    std::string architecture = "x86-64"; // systemd's name
    std::string version = "latest";   // pattern for the profile's version_from package
    unsigned revision = 0;            // > 0: the release is VERSION-rN (a rebuild of VERSION)
    std::string output_dir = "out";
    std::string lock_in;              // rebuild exactly the inputs of this lock file
    std::string mirror;               // Debian mirror; "" = from the host's apt sources
    std::string keyring;              // Debian archive keyring; "" = the system's
    std::string download_cache;       // "" = $XDG_CACHE_HOME/sysext-build/downloads
    std::map<std::string, std::string> vars; // --set KEY=VALUE
    std::string base_root;            // target base system for the ELF check
    std::string base_list;            // or a listing of its files
    bool elf_check = true;
    // Signing, last: a dm-verity tree and a PKCS#7 over its root hash, as
    // sidecars next to the image, or (ddi, or the target's format rule says
    // "disk_image") the image is a GPT disk image holding the file system, its
    // verity tree and the signature.
    std::string key, cert;
    bool ddi = false;
    int passphrase_fd = -1;
    std::string passphrase_env;
    bool force_insecure_key = false;
    // Flatcar update payload next to the image (IMAGE.gz): always for a target
    // named "flatcar", else when asked. Signed with payload_keys; without keys it
    // is left unsigned with room for payload_signatures RSA-2048 signatures, and
    // the hash to sign elsewhere is written to IMAGE.gz.hash (see `payload attach`).
    bool payload = false;
    std::vector<std::string> payload_keys;
    size_t payload_signatures = 2;
    BlockCache* payload_cache = nullptr; // payload chunks; packing.cache is for image blocks
    uint32_t mtime = 0;
    // The file system and its settings as the command line (or lock) gives
    // them; the rest from the target's "format" rules (image_format.hpp).
    FormatRequest packing;
};

struct BuiltInput {
    std::string name, version, sha256;
};

struct BuildResult {
    std::string name;      // extension name
    std::string version;   // the extension's version (upstream version of version_from)
    std::string target, architecture;
    std::string image, lock;
    ImageSettings settings; // the file system and its settings
    bool ddi = false;       // the image is a signed disk image
    std::string sha256;
    uint64_t size = 0;
    uint64_t entries = 0;
    std::vector<BuiltInput> inputs;
    std::map<std::string, std::string> components; // component -> version ("" if unknown)
    std::string release_text;
    uint64_t elf_checked = 0;
    std::string payload, payload_hash_file; // when a payload was made
    std::string root_hash;              // when signed
    std::string certificate_fingerprint; // SHA-256 of the signing certificate (DER), when signed
    std::vector<std::string> signed_outputs;
    // Recommended packages no source took: "nftables (recommended by netavark 1.14.0-2)".
    std::vector<std::string> left_out_recommends;
    // The target's host listing (profile "host_files"), "" when it has none, and
    // the image's files it names: they replace the host's while merged.
    std::string host_listing;
    std::vector<std::string> host_overlays;
};

BuildResult build(const BuildOptions& options, Reporter& reporter);

// systemd architecture name to Debian's and to the multiarch triplet.
std::string debian_architecture(const std::string& systemd_arch);
std::string multiarch_triplet(const std::string& systemd_arch);

} // namespace sysext::pipeline

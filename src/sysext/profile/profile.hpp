// Profiles: what an extension is made of, as a JSON file (format in
// profiles/README.md). Loading checks every key and type and reports every
// problem as "FILE:LINE: what" (with a did-you-mean for unknown keys); strings
// may hold ${variables}, expanded later when a build knows their values.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace sysext::profile {

// Bounds on a profile: its size and how deep its JSON nests.
inline constexpr size_t k_max_profile_bytes = 1 << 20;
inline constexpr int k_max_profile_depth = 32;

// Where a spec came from, for messages: "profiles/podman.json:14".
struct Origin {
    std::string file;
    int line = 0;
    std::string str() const { return file + ":" + std::to_string(line); }
};

struct SourceSpec {
    std::string type; // "debian", "directory", "package" (archive or .deb/.rpm/GPKG/XPAK), "url"
    // debian
    std::vector<std::string> packages; // "name" or "name=PATTERN"
    std::string suite, mirror;
    std::vector<std::string> components;
    bool with_dependencies = false;
    std::vector<std::string> recommends; // recommended packages to take along
    std::string base_system; // package list file, relative to the profile
    // directory, package
    std::string path;
    // url (a package file fetched by URL, pinned): its SHA-256, which may hold
    // ${variables}, or one per architecture (systemd's names)
    std::string url, sha256;
    std::map<std::string, std::string> sha256_by_arch;
    // package, url: leading directories of the archive's paths to drop (tar's
    // --strip-components); entries above that depth are left out
    unsigned strip_components = 0;
    // all: which paths to take (globs; empty = all) and where to put them
    std::vector<std::string> select;
    std::string prefix;
    Origin origin;
};

// How a target's image is packed (a target's "format": a string, or a list of
// these, the first whose "when" holds): its file system and that file
// system's settings. Empty strings leave the format's default; compression
// and sizes are checked by the build, which knows the formats.
struct FormatRule {
    // "when": {"version": "${os_version}", "at_least": "4628"}: the rule holds
    // when the expanded version orders at or after at_least (as dpkg orders
    // versions); both empty: always.
    std::string when_version, at_least;
    std::string format; // "squashfs" or "erofs"
    std::string compression, block_size, erofs_pcluster;
    int tail_packing = -1; // -1 unsaid, 0 no, 1 yes
    int fragments = -1;    // EROFS: -1 unsaid, 0 no, 1 yes
    // Signed, the image is a GPT disk image (root, root-verity,
    // root-verity-sig), as with --ddi; building it needs --key and --cert.
    bool disk_image = false;
    Origin origin;
};

struct TargetSpec {
    std::string name;
    std::string image;                          // the extension (and image file) name
    std::map<std::string, std::string> release; // extension-release keys
    std::vector<SourceSpec> sources;
    std::vector<std::string> requires_vars;     // variables the user must --set
    // Listing of the target base system's files (relative to the profile), for
    // the ELF check; "" = none (then only --base-root/--base-list give one).
    std::string base_files;
    // Listing of the files a typical host of the target has (relative to the
    // profile): the image's files it names replace the host's while merged.
    std::string host_files;
    std::string glibc; // the oldest glibc the target's image runs with ("2.36"), "" = unsaid
    std::vector<FormatRule> formats; // none: squashfs at its defaults
    Origin origin;
};

struct ComponentSpec {
    std::string name;
    std::vector<std::string> paths; // each must exist in the extension (globs allowed)
    std::string package;            // Debian package that provides it (for versions)
    Origin origin;
};

struct MoveSpec {
    std::string from, to;
    // Relocated /etc files: add tmpfiles "C" rules that copy each into /etc when
    // absent, and list them for the prepare service.
    bool etc_defaults = false;
    Origin origin;
};

struct FileSpec {
    std::string path;
    uint32_t mode = 0644;
    std::string content;
    Origin origin;
};

struct LinkSpec {
    std::string path, target;
    Origin origin;
};

struct ModeSpec {
    std::string path; // glob
    uint32_t mode;
    Origin origin;
};

struct Profile {
    std::string file; // the profile's path
    std::string name;
    std::string description;
    std::string version_from; // the package whose upstream version is the extension's
    std::string default_target;
    std::vector<std::string> architectures; // systemd names
    // What a release pipeline builds (`sysext-build matrix`): version patterns
    // of version_from ("5.x") and targets (default: the default target).
    std::vector<std::string> release_versions;
    std::vector<std::string> release_targets;
    std::map<std::string, std::string> release;
    std::map<std::string, TargetSpec> targets;
    std::vector<ComponentSpec> components;
    std::vector<std::string> exclude;
    std::vector<MoveSpec> moves;
    std::vector<FileSpec> files;
    std::vector<LinkSpec> symlinks;
    std::vector<ModeSpec> modes;
    // Every ${NAME} the profile's text refers to ("$${NAME}" is a literal, not one).
    std::set<std::string> variables;

    // The directory the profile's relative paths (base_system, path) start from.
    std::string dir() const;
};

// Reads and checks a profile. Throws MultiError (Input) listing every problem.
Profile load(const std::string& path);
Profile parse(const std::string& text, const std::string& file);

// Finds profile NAME: NAME itself if it is a file, else NAME.json in each of dirs.
std::string find(const std::string& name, const std::vector<std::string>& dirs);

// Expands ${var} in text. Throws Input "<origin>: unknown variable ${x}".
std::string expand(const std::string& text, const std::map<std::string, std::string>& vars,
                   const Origin& origin);

} // namespace sysext::profile

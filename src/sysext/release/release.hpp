// extension-release files: the metadata systemd-sysext matches against the
// host's os-release before it merges an image (see shared/specs/sysext.md).
//
// The syntax is os-release(5): KEY=value lines, values optionally quoted.
// Matching in systemd: SYSEXT_SCOPE, ARCHITECTURE, ID (or _any), SYSEXT_LEVEL,
// VERSION_ID.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sysext::release {

struct Fields {
    std::string os_id;          // ID: the host's os-release ID, or "_any"
    std::string version_id;     // VERSION_ID
    std::string sysext_level;   // SYSEXT_LEVEL
    std::string architecture;   // ARCHITECTURE: systemd's name, or "_any"
    bool reload_manager = false; // EXTENSION_RELOAD_MANAGER=1
    std::string scope;          // SYSEXT_SCOPE, e.g. "system portable"
    std::vector<std::pair<std::string, std::string>> extra; // further KEY=VALUE lines
};

// Path of the release file inside the tree for an extension called name.
std::string release_path(std::string_view name);
// The extension name systemd derives from an image file name: "podman.raw" and
// "podman.sysext.raw" give "podman".
std::string name_from_image_file(std::string_view file_name);

// Checks the fields (ID present, architecture known, scope words, key syntax);
// returns every problem found, each prefixed with `where`.
std::vector<std::string> check(const Fields& fields, std::string_view where);
// The file's text: fixed key order, then extra keys in the order given.
std::string render(const Fields& fields);
// Parses os-release syntax. Throws Input "<where>:<line>: <cause>".
std::map<std::string, std::string> parse(std::string_view text, std::string_view where);
// KEY=value pairs (as parse returns them) as fields: the keys above to their
// members, every other key to extra, in key order.
Fields to_fields(const std::map<std::string, std::string>& pairs);

bool known_architecture(std::string_view arch);
// systemd's name for what a user wrote in another scheme (Debian's "amd64",
// uname's "aarch64"), else the nearest systemd name, else "".
std::string architecture_hint(std::string_view arch);
// A valid extension name: letters, digits, "._+-", not starting with a dot.
bool valid_name(std::string_view name);

} // namespace sysext::release

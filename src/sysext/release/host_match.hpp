// Would a host merge this extension? The same decision systemd-sysext takes
// when it compares an image's extension-release fields with the host's
// os-release, in the same order, so that `inspect` can say why a host ignores
// an image instead of leaving the user with a silent "no extensions merged".
//
// Order (systemd's shared/extension-util.c): SYSEXT_SCOPE must list the
// host's scope; ARCHITECTURE, when set and not _any, must equal the host's; ID
// must be _any (accepted at once), the host's ID or one of its ID_LIKE words
// (newer systemd; 252 compares ID only, and the reason says so);
// a host without VERSION_ID and SYSEXT_LEVEL accepts any version; when both
// sides carry SYSEXT_LEVEL those must be equal; otherwise VERSION_ID must be.
#pragma once

#include <map>
#include <string>

namespace sysext::release {

using KeyValues = std::map<std::string, std::string>;

struct HostMatch {
    bool accepted = false;
    std::string reason; // why not, or which rule accepted it
};

// ext: the extension-release file's fields; host: the host's os-release.
// host_arch is systemd's name for the host's architecture ("x86-64"), scope
// "system" for a booted system ("initrd", "portable").
HostMatch match_host(const KeyValues& ext, const KeyValues& host, const std::string& host_arch,
                     const std::string& scope = "system");

// systemd's architecture name for the machine this runs on ("x86-64", "arm64").
std::string running_architecture();

} // namespace sysext::release

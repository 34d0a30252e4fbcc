// Checks an assembled tree against what systemd-sysext will accept, before any
// byte is packed. Every problem is listed; the caller stops if there are any.
#pragma once

#include "sysext/tree/tree.hpp"

#include <string>
#include <vector>

namespace sysext::validate {

struct Expectations {
    std::string name; // the extension's name: the release file must be extension-release.NAME
};

// `profile`: the profile the tree was built from, if any; its problems then say
// which profile key fixes them.
std::vector<std::string> check_tree(const tree::Tree& tree, const Expectations& expect,
                                    const std::string& profile = {});

// Extended attributes an extension may carry: security.capability (file
// capabilities), security.selinux (labels) and user.* (systemd's
// user.extension-release.strict). The others never reach an image:
// trusted.overlay.* would steer the overlayfs systemd-sysext merges with (an
// opaque usr/lib hides the host's whole /usr/lib), and the rest of trusted.*,
// security.ima/evm and system.* ACLs describe a host, not an extension.
bool xattr_allowed(std::string_view key);

// Removes the attributes xattr_allowed() refuses from every entry; returns the
// warning that says so (the first entries that lost some, "usr/lib (from
// x.tar): trusted.overlay.opaque", and how many more), or "" when none did.
std::string drop_foreign_xattrs(tree::Tree& tree);

// squashfs stores a name's length in 8 bits, less one; Linux allows 255 bytes.
constexpr size_t k_max_name = 255;

} // namespace sysext::validate

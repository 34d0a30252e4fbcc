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

std::vector<std::string> check_tree(const tree::Tree& tree, const Expectations& expect);

// squashfs stores a name's length in 8 bits, less one; Linux allows 255 bytes.
constexpr size_t k_max_name = 255;

} // namespace sysext::validate

// Turns the files a profile's sources delivered into the extension's tree:
// selection, exclusions, relocations (with /etc defaults), modes, generated
// files and links, then a check that every component is present.
#pragma once

#include "sysext/profile/profile.hpp"
#include "sysext/tree/tree.hpp"

#include <map>
#include <string>
#include <vector>

namespace sysext::profile {

using Vars = std::map<std::string, std::string>;

// Copies the entries of `from` matching any of the globs (whole subtrees for
// directories) into `to` below prefix. Hard links stay links when both ends are
// copied. Returns the number of entries matched at the top.
size_t copy_selected(const tree::Tree& from, tree::Tree& to, const std::vector<std::string>& globs,
                     const std::string& prefix, const std::string& origin);

// Applies move, exclude, modes, files and symlinks, in that order. Every
// generated entry gets `mtime`. Throws Input naming the profile line.
void apply_layout(const Profile& profile, tree::Tree& tree, const Vars& vars, uint32_t mtime);

// One problem per component path that matches nothing.
std::vector<std::string> check_components(const Profile& profile, const tree::Tree& tree,
                                          const Vars& vars);

} // namespace sysext::profile

// Adds a directory on disk to the tree. File contents are not read here: the
// nodes remember their path and the writer streams them in order.
#pragma once

#include "sysext/source/options.hpp"
#include "sysext/tree/tree.hpp"
#include "sysext/util/reporter.hpp"

#include <string>
#include <vector>

namespace sysext::source {

// Adds every entry below dir. Problems that do not stop the scan (an unreadable
// file, an attribute that cannot be read) are appended to problems, so that
// validation can list them all; a missing or unreadable dir throws.
void add_directory(tree::Tree& tree, const std::string& dir, const SourceOptions& options,
                   std::vector<std::string>& problems, Reporter& reporter);

} // namespace sysext::source

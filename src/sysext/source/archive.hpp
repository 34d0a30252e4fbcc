// Adds the entries of an archive (tar in any compression, cpio, zip, 7z, ar)
// to the tree without unpacking it to disk.
//
// A first pass reads the headers only and builds the tree. File data is read
// later, as the squashfs writer asks for it in the tree's order: an archive in
// that order (e.g. `tar --sort=name`) streams straight through; an entry that
// arrives before its turn is parked in an unlinked temporary file until it is
// asked for. An uncompressed tar needs neither: each file's bytes lie in one
// piece in the archive and are read from there in place. The archive must be a
// regular file (it is read twice).
#pragma once

#include "sysext/source/options.hpp"
#include "sysext/tree/tree.hpp"
#include "sysext/util/reporter.hpp"

#include <string>
#include <vector>

namespace sysext::source {

// Adds the archive's entries below options.prefix. Problems with single entries
// (a ".." path, an absolute path) go to problems; a damaged or truncated archive
// throws Input naming the archive and, where known, the entry.
void add_archive(tree::Tree& tree, const std::string& archive, const SourceOptions& options,
                 std::vector<std::string>& problems, Reporter& reporter);

} // namespace sysext::source

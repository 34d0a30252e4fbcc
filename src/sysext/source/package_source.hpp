// Binary packages as tree sources: Debian .deb, RPM, Gentoo GPKG and XPAK.
//
// Each format wraps an ordinary archive, which the archive source reads
// (archive.hpp), so paths, links, sizes and decompression bombs are checked the
// same way for all of them:
//   .deb (deb(5)): an ar archive; its data.tar{,.xz,.zst,.gz,.bz2,.lzma} member
//     holds the files.
//   RPM (rpm's lead and header, then a cpio payload): libarchive's rpm filter
//     skips to the payload, so the package is read as an archive directly.
//   GPKG (Gentoo GLEP 78, `.gpkg.tar`): a tar holding NAME/gpkg-1 first, then
//     NAME/metadata.tar.* and NAME/image.tar.*, whose files are under image/.
//   XPAK (Gentoo's older `.tbz2`): a compressed tar, then an XPAK metadata
//     block, then its length (4 bytes, big-endian) and "STOP".
// Any other file is handed to the archive source as it is.
//
// An inner archive (data.tar, image.tar, the tar before an XPAK block) is
// copied, still compressed, to an unlinked temporary file that lives as long as
// the tree nodes that stream from it; messages name the package and the member
// ("podman.deb: data.tar.xz: usr/bin/podman: ..."), never the temporary file.
#pragma once

#include "sysext/source/options.hpp"
#include "sysext/tree/tree.hpp"
#include "sysext/util/reporter.hpp"

#include <string>
#include <vector>

namespace sysext::source {

enum class PackageFormat { Deb, Rpm, Gpkg, Xpak, Archive };

const char* format_name(PackageFormat f);

// Tells the format by content, not by name.
PackageFormat detect_package_format(const std::string& path);

// Adds the package's files below options.prefix, like add_archive(): problems
// with single entries go to problems; a damaged package throws Input naming it.
void add_package(tree::Tree& tree, const std::string& path, const SourceOptions& options,
                 std::vector<std::string>& problems, Reporter& reporter);

} // namespace sysext::source

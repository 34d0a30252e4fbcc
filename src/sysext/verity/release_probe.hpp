// Finds the extension-release file inside a squashfs or EROFS image, wherever
// the image lies (a bare file, or the data partition of a disk image), with the
// image readers (image/reader.hpp), which treat the image as hostile. sign uses it
// to refuse images that are not system extensions and to take the architecture;
// verify uses it to check release metadata.
//
// Name rule (systemd's extension-release.c): for an image named NAME (file name
// without ".raw"), the file is usr/lib/extension-release.d/extension-release.NAME,
// or extension-release.PREFIX where PREFIX is NAME up to the first '_' or '+'.
#pragma once

#include "sysext/verity/hash_tree.hpp"

#include <string>
#include <string_view>

namespace sysext::verity {

struct ExtensionRelease {
    std::string file_name; // "extension-release.podman"
    std::string content;

    // A KEY=value entry (quotes removed), or "" when absent.
    std::string value(const std::string& key) const;
};

// "dir/podman_5.4.2.raw" -> "podman_5.4.2"; ".sysext.raw" and ".raw" are dropped.
std::string image_name_from_path(const std::string& path);

// Throws a Verify error naming what is missing or ambiguous.
ExtensionRelease find_extension_release(const Region& image, const std::string& image_name);

} // namespace sysext::verity

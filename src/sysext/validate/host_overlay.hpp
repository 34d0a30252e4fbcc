// Files of an image that a typical host of its target already has. Merged, the
// image's copy stands in for the host's for every program on the host, not only
// the extension's: a carried libgnutls.so.30 replaces the host's while merged.
// build and inspect report them, so that a user sees "this image replaces 10
// libraries of the host" before shipping it.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace sysext::validate {

// A listing of a host's files: one absolute path per line ("/usr/bin/gpg"),
// "#" comments; as profiles/base/*.files hold them.
std::set<std::string> read_host_listing(const std::string& path);

struct HostOverlay {
    std::vector<std::string> files; // image paths ("usr/lib/.../libfoo.so.1"), sorted
    size_t libraries = 0;           // of which shared libraries or the loader
};

// The image paths (relative, "usr/bin/x") that the host listing has too.
HostOverlay host_overlay(const std::vector<std::string>& image_paths,
                         const std::set<std::string>& host);

// "replaces 3 files of the host listed in LIST (2 libraries): a, b, c" (at most
// `shown` paths named), or "" when there are none.
std::string describe(const HostOverlay& overlay, const std::string& listing, size_t shown = 10);

} // namespace sysext::validate

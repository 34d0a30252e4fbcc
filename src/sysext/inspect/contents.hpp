// Contents reports of an image: every path with mode, owner, size and link
// target; file bytes by directory; the same as JSON. Stable and reproducible:
// sorted by path bytewise, no times, no host facts.
#pragma once

#include "sysext/image/entry.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sysext::inspect {

// "drwxr-xr-x", "-rwsr-xr-x", "lrwxrwxrwx": the type letter and the permission
// bits as ls(1) shows them.
std::string mode_string(const image::ImageEntry& entry);

// One line per entry: "MODE UID:GID SIZE PATH[ -> TARGET]", e.g.
// "-rwxr-xr-x 0:0 12345 usr/bin/podman". The root is shown as ".". Devices
// show "MAJOR,MINOR" for SIZE. Bytes below 0x20, 0x7f and '\' in paths and
// targets are escaped as \xNN so that every entry stays on one line.
std::string contents_listing(const std::vector<image::ImageEntry>& entries);

// A path or link target as the listing shows it: bytes below 0x20, 0x7f and
// '\' escaped as \xNN (names come from the image and reach a terminal).
std::string printable(const std::string& path);

// Regular file bytes per directory, cumulative (like du --apparent-size, each
// hard-linked inode counted once), for directories up to max_depth levels
// below the root (the root "." is depth 0): "BYTES\tDIR" lines sorted by path,
// the root first.
std::string usage_by_directory(const std::vector<image::ImageEntry>& entries, int max_depth = 3);

// [{"path", "type" ("d","f","l","c","b","p","s"), "mode" ("0755"), "uid", "gid",
//   "size", "nlink", "inode", "target" (symlinks), "xattrs" {name: hex value}}]
nlohmann::json contents_json(const std::vector<image::ImageEntry>& entries);

struct ContentsTotals {
    uint64_t entries = 0;
    uint64_t directories = 0;
    uint64_t files = 0;
    uint64_t symlinks = 0;
    uint64_t other = 0;      // devices, fifos, sockets
    uint64_t file_bytes = 0; // each hard-linked inode counted once
};
ContentsTotals contents_totals(const std::vector<image::ImageEntry>& entries);

// The n largest regular files, largest first (ties by path).
std::vector<image::ImageEntry> largest_files(const std::vector<image::ImageEntry>& entries,
                                                size_t n);

} // namespace sysext::inspect

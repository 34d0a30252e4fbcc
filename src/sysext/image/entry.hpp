// What the image readers produce, whatever the file system: one entry per
// path of an extension image (squashfs or EROFS), read without mounting.
// squashfs/reader.hpp and erofs/reader.hpp fill it; image/reader.hpp picks
// the reader by the image's magic. Header only: the readers depend on it,
// not on each other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sysext::image {

struct ImageEntry {
    std::string path; // relative, no leading slash: "usr", "usr/bin/podman"; the root is ""
    char type =
        'f'; // 'd' dir, 'f' file, 'l' symlink, 'c' char dev, 'b' block dev, 'p' fifo, 's' socket
    uint32_t mode = 0; // permission bits incl. setuid/setgid/sticky (no type bits)
    uint32_t uid = 0, gid = 0;
    uint64_t size = 0;  // file bytes; symlink: target length; dir: 0
    std::string target; // symlink target
    uint32_t nlink = 1;
    // The inode's number, shared by hard links: squashfs's inode number, EROFS's
    // nid (what the kernel reports as st_ino).
    uint64_t inode = 0;
    std::map<std::string, std::string> xattrs;
    uint32_t rdev = 0; // device number of 'c' and 'b' entries (the kernel's new_encode_dev)
};

struct ImageSummary {
    std::string format;     // "squashfs" or "erofs"
    std::string compressor; // "zstd", "lz4", ...; EROFS without compressed files: "none"
    uint32_t block_size = 0;
    uint64_t bytes_used = 0;
    uint64_t mtime = 0; // squashfs: modification time; EROFS: build time
    uint64_t inode_count = 0;
    uint64_t fragment_count = 0; // squashfs only
};

struct ImageListing {
    ImageSummary summary;
    std::vector<ImageEntry> entries; // sorted by path, bytewise; the root first
};

// Bounds on what a hostile image can make a reader hold in memory.
inline constexpr size_t k_max_entries = 1'000'000;
inline constexpr size_t k_max_path = 4095;

// "dir/name" ("name" in the root): paths as readers build them.
std::string join(const std::string& dir, const std::string& name);
// A path for messages: names come from the image, so control bytes are
// escaped ("\x01"); the root is "/".
std::string shown(const std::string& path);

} // namespace sysext::image

// Reads the directory tree and single files of a squashfs 4.0 image without
// mounting it, on libsquashfs's meta data, ID, xattr and data readers.
//
// The image may sit at an offset inside a larger file (a partition of a GPT
// disk image). Images are treated as hostile: every failure throws
// sysext::Error (kind Input, or Io when the system refuses a read) naming the
// file and the cause; a directory reached twice, more than k_max_entries
// entries, paths longer than PATH_MAX or block lists larger than the inode
// table could hold stop the reading before memory or time runs away.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sysext::squashfs {

struct ImageEntry {
    std::string path; // relative, no leading slash: "usr", "usr/bin/podman"; the root is ""
    char type =
        'f'; // 'd' dir, 'f' file, 'l' symlink, 'c' char dev, 'b' block dev, 'p' fifo, 's' socket
    uint32_t mode = 0; // permission bits incl. setuid/setgid/sticky (no type bits)
    uint32_t uid = 0, gid = 0;
    uint64_t size = 0;  // file bytes; symlink: target length; dir: 0
    std::string target; // symlink target
    uint32_t nlink = 1;
    uint32_t inode = 0; // inode number (hard links share it)
    std::map<std::string, std::string> xattrs;
    uint32_t rdev = 0; // device number of 'c' and 'b' entries (squashfs encoding)
};

struct ImageSummary {
    std::string compressor;
    uint32_t block_size = 0;
    uint64_t bytes_used = 0;
    uint32_t mtime = 0;
    uint32_t inode_count = 0;
    uint64_t fragment_count = 0;
};

struct ImageListing {
    ImageSummary summary;
    std::vector<ImageEntry> entries; // sorted by path, bytewise; the root first
};

// Bounds on what a hostile image can make us hold in memory.
inline constexpr size_t k_max_entries = 1'000'000;
inline constexpr size_t k_max_path = 4095;

// Reads the whole directory tree of the squashfs image at `offset` inside
// `path`, `size` bytes long (0: to the end of the file).
ImageListing read_image(const std::string& path, uint64_t offset = 0, uint64_t size = 0);

// Reads one regular file (no symlinks followed) from the image; throws when it
// is missing, not a regular file or longer than max_bytes.
std::string read_image_file(const std::string& path, const std::string& file_path,
                            uint64_t max_bytes, uint64_t offset = 0, uint64_t size = 0);

// The same, on an open file (the caller keeps `fd`); `name` is what messages call
// the image ("DISK: root partition"); `size` 0: to the end of the file.
std::string read_image_file(int fd, const std::string& name, const std::string& file_path,
                            uint64_t max_bytes, uint64_t offset, uint64_t size);

// The entries of one directory of the image, not recursing, in name order, each
// with its xattrs; throws when `dir_path` is missing or not a directory.
std::vector<ImageEntry> read_image_dir(int fd, const std::string& name, const std::string& dir_path,
                                       uint64_t offset, uint64_t size);

} // namespace sysext::squashfs

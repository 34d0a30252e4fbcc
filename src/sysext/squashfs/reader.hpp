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

#include "sysext/image/entry.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sysext::squashfs {

// The entry model is format-neutral (image/entry.hpp); these names stay for
// the squashfs reader's own users.
using image::ImageEntry;
using image::ImageListing;
using image::ImageSummary;
using image::k_max_entries;
using image::k_max_path;

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

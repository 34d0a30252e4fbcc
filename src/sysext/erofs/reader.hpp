// Reads the directory tree and single files of an EROFS image without
// mounting it: our own reader (erofs-utils builds no library we could use),
// the counterpart of the writer in this folder, for images of any EROFS
// writer (this one, mkfs.erofs) that use what the kernel has read since 5.16:
// compact and extended inodes, inline and multi-block directories, symlinks,
// plain, inline-tail and chunk-based files, LZ4 (and LZ4HC) with full or
// compact indexes, big pclusters and ztailpacking, inline and shared xattrs.
// Fragments, dedupe, other devices, long xattr prefixes and compression other
// than LZ4 are refused by name.
//
// The image may sit at an offset inside a larger file (a partition of a disk
// image). Images are treated as hostile, with the squashfs reader's bounds
// (image/entry.hpp): every failure throws sysext::Error (Input, or Io when the
// system refuses a read) naming the file and the cause; a directory reached
// twice, more than k_max_entries entries, paths longer than k_max_path bytes,
// nids or blocks outside the image, or directories holding more bytes than
// the image could stop the reading before memory or time runs away.
#pragma once

#include "sysext/image/entry.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sysext::erofs {

// Reads the whole directory tree of the EROFS image at `offset` inside `path`,
// `size` bytes long (0: to the end of the file).
image::ImageListing read_image(const std::string& path, uint64_t offset = 0, uint64_t size = 0);

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
std::vector<image::ImageEntry> read_image_dir(int fd, const std::string& name,
                                              const std::string& dir_path, uint64_t offset,
                                              uint64_t size);

} // namespace sysext::erofs

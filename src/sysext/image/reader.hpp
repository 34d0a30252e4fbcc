// The one entry point for reading an extension image, whatever its file
// system: the format is sniffed from the bytes (squashfs's "hsqs" at byte 0,
// EROFS's magic 0xE0F5E1E2 at byte 1024) and the call goes to that format's
// hostile-image reader (squashfs/reader.hpp, erofs/reader.hpp). inspect,
// verify, sign's release probe and publish read images through here, so that
// a bare image and a disk image's root partition read the same in either
// format. Every failure throws sysext::Error naming the image.
#pragma once

#include "sysext/image/entry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysext::image {

enum class Format { Squashfs, Erofs };

// "squashfs" or "erofs".
std::string_view format_name(Format format);

// The format of the image at [offset, offset+size) of `fd` (size 0: to the end
// of the file), or nothing when neither magic is there; a failed read throws
// Io naming `name`.
std::optional<Format> sniff_format(int fd, const std::string& name, uint64_t offset = 0,
                                   uint64_t size = 0);

// The same, but throws Input naming `name` and what the bytes are instead.
Format detect_format(int fd, const std::string& name, uint64_t offset = 0, uint64_t size = 0);

// As the formats' readers: the whole tree, one regular file (at most
// max_bytes), one directory's entries; from a path or a caller's descriptor,
// the image at `offset` inside the file and `size` bytes long (0: to the end).
ImageListing read_image(const std::string& path, uint64_t offset = 0, uint64_t size = 0);
std::string read_image_file(const std::string& path, const std::string& file_path,
                            uint64_t max_bytes, uint64_t offset = 0, uint64_t size = 0);
std::string read_image_file(int fd, const std::string& name, const std::string& file_path,
                            uint64_t max_bytes, uint64_t offset, uint64_t size);
std::vector<ImageEntry> read_image_dir(int fd, const std::string& name, const std::string& dir_path,
                                       uint64_t offset, uint64_t size);

} // namespace sysext::image

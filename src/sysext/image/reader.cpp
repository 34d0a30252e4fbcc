#include "sysext/image/reader.hpp"

#include "sysext/erofs/format.hpp"
#include "sysext/erofs/reader.hpp"
#include "sysext/squashfs/reader.hpp"
#include "sysext/util/endian.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <cstdio>
#include <cstring>
#include <fcntl.h>

namespace sysext::image {

std::string join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
}

std::string shown(const std::string& path) {
    if (path.empty())
        return "/";
    std::string out;
    for (unsigned char c : path) {
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string_view format_name(Format format) {
    return format == Format::Erofs ? "erofs" : "squashfs";
}

std::optional<Format> sniff_format(int fd, const std::string& name, uint64_t offset,
                                   uint64_t size) {
    // Bounded by the window: a partition's magic must lie inside the partition.
    uint8_t head[erofs::k_super_offset + 4] = {};
    const uint64_t want = size == 0 ? sizeof head : std::min<uint64_t>(sizeof head, size);
    const size_t n = pread_full(fd, head, want, static_cast<off_t>(offset), name);
    if (n >= 4 && std::memcmp(head, "hsqs", 4) == 0)
        return Format::Squashfs;
    if (n == sizeof head && get_le(head + erofs::k_super_offset, 4) == erofs::k_magic)
        return Format::Erofs;
    return std::nullopt;
}

Format detect_format(int fd, const std::string& name, uint64_t offset, uint64_t size) {
    if (std::optional<Format> f = sniff_format(fd, name, offset, size))
        return *f;
    throw_input(name + ": not a squashfs or EROFS image (no \"hsqs\" at byte 0, no EROFS magic " +
                "at byte 1024" +
                (offset ? " of the image at offset " + std::to_string(offset) : "") + ")");
}

namespace {

Format detect_path(const std::string& path, uint64_t offset, uint64_t size) {
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    return detect_format(fd.get(), path, offset, size);
}

} // namespace

ImageListing read_image(const std::string& path, uint64_t offset, uint64_t size) {
    if (detect_path(path, offset, size) == Format::Erofs)
        return erofs::read_image(path, offset, size);
    return squashfs::read_image(path, offset, size);
}

std::string read_image_file(const std::string& path, const std::string& file_path,
                            uint64_t max_bytes, uint64_t offset, uint64_t size) {
    if (detect_path(path, offset, size) == Format::Erofs)
        return erofs::read_image_file(path, file_path, max_bytes, offset, size);
    return squashfs::read_image_file(path, file_path, max_bytes, offset, size);
}

std::string read_image_file(int fd, const std::string& name, const std::string& file_path,
                            uint64_t max_bytes, uint64_t offset, uint64_t size) {
    if (detect_format(fd, name, offset, size) == Format::Erofs)
        return erofs::read_image_file(fd, name, file_path, max_bytes, offset, size);
    return squashfs::read_image_file(fd, name, file_path, max_bytes, offset, size);
}

std::vector<ImageEntry> read_image_dir(int fd, const std::string& name, const std::string& dir_path,
                                       uint64_t offset, uint64_t size) {
    if (detect_format(fd, name, offset, size) == Format::Erofs)
        return erofs::read_image_dir(fd, name, dir_path, offset, size);
    return squashfs::read_image_dir(fd, name, dir_path, offset, size);
}

} // namespace sysext::image

// Which file system an image gets and with which settings: squashfs (the
// default) or EROFS, chosen by the command line, a lock file or the target's
// "format" rules in the profile, in that order.
//
// Each format has its own settings, and a setting of the other is refused by
// name: --block-size is squashfs's, --erofs-pcluster EROFS's, and
// --compression means what the chosen format takes (zstd, xz, gzip, lz4[:hc]
// for squashfs; none, lz4, lz4hc[:1-12] for EROFS). A target's rule applies
// only when its format is the one chosen: `--format squashfs` for a target
// whose rule says EROFS takes squashfs's defaults, not the rule's LZ4HC.
#pragma once

#include "sysext/erofs/writer.hpp"
#include "sysext/profile/profile.hpp"
#include "sysext/squashfs/writer.hpp"
#include "sysext/util/block_cache.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sysext::pipeline {

// The file system of the image: squashfs (the default) or EROFS.
enum class ImageFormat { Squashfs, Erofs };

// "squashfs" or "erofs"; throws Usage naming --format.
ImageFormat parse_image_format(std::string_view text);
const char* image_format_name(ImageFormat f);

// The file system an image holds, from its magic numbers: squashfs's "hsqs"
// at 0, EROFS's 0xE0F5E1E2 at 1024, of the file or of a disk image's data
// partition; nullopt for anything else (a payload, a file system of another
// kind). Throws when the file cannot be read or a disk image has no single
// data partition.
std::optional<ImageFormat> image_format_of(const std::string& path);

// What the command line (or the lock file) asked for; "" and -1: not given.
struct FormatRequest {
    std::string format;
    std::string compression;
    std::string block_size; // squashfs
    std::string pcluster;   // EROFS
    int tail_packing = -1;
    int fragments = -1; // EROFS
    bool xattrs = true;
    unsigned jobs = 0;
    BlockCache* cache = nullptr; // used where a lookup costs less than compressing
    bool cache_forced = false;   // --cache: at any compression
};

struct ImageSettings {
    ImageFormat format = ImageFormat::Squashfs;
    squashfs::WriterOptions squashfs;
    erofs::WriterOptions erofs;
    bool disk_image = false; // the target's rule: signed, a disk image
    std::string rule;        // the profile rule that chose, "file:line", or ""

    std::string compression() const; // "zstd:15", "lz4hc:12"
    bool xattrs() const { return format == ImageFormat::Erofs ? erofs.xattrs : squashfs.xattrs; }
    bool tail_packing() const {
        return format == ImageFormat::Erofs ? erofs.tail_packing : squashfs.tail_packing;
    }
    // Everything the image's bytes depend on, as the lock file records it:
    // format, compression, block_size or erofs_pcluster (and fragments),
    // tail_packing, xattrs.
    std::map<std::string, std::string> lock_settings() const;
};

// The first of the target's rules whose "when" holds with these variables
// (null: none holds, or there are none). Throws Input naming the rule for a
// version that does not parse.
const profile::FormatRule* matching_rule(const profile::TargetSpec& target,
                                         const std::map<std::string, std::string>& vars);

// The settings: the request's, then the rule's where the rule's format is the
// one chosen, then the format's defaults (squashfs zstd:15 with 128 KiB
// blocks; EROFS lz4hc:12 with 64 KiB physical clusters). A rule's bad value is
// an Input error naming the rule; a request's a Usage error naming its flag.
ImageSettings resolve_image_settings(const FormatRequest& request, const profile::FormatRule* rule,
                                     uint32_t mtime);

} // namespace sysext::pipeline

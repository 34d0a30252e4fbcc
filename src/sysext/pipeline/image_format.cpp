#include "sysext/pipeline/image_format.hpp"

#include "sysext/ddi/disk_image.hpp"
#include "sysext/ddi/gpt.hpp"
#include "sysext/erofs/format.hpp"
#include "sysext/source/version.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"

#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>

namespace sysext::pipeline {

namespace {

// A setting and where it came from: a flag ("--compression") or a rule
// ("profiles/podman.json:131: \"compression\"").
struct Setting {
    std::string value, what;
    bool from_rule = false;
    bool given() const { return !value.empty(); }
};

[[noreturn]] void refuse(const Setting& s, const std::string& why) {
    if (s.from_rule)
        throw_input(s.what + ": " + why);
    throw_usage(s.what + ": " + why);
}

// Runs a parser that throws Usage("--compression: ..."), naming the setting instead.
template <class F> auto parse_as(const Setting& s, const char* flag, F&& parse) {
    try {
        return parse();
    } catch (const Error& e) {
        std::string why = e.what();
        if (starts_with(why, std::string(flag) + ": "))
            why = why.substr(std::string(flag).size() + 2);
        refuse(s, why);
    }
}

bool parses(auto&& f) {
    try {
        f();
        return true;
    } catch (const Error&) {
        return false;
    }
}

squashfs::Compression squashfs_compression(const Setting& s) {
    if (!s.given())
        return squashfs::Compression::parse("zstd");
    if (!parses([&] { squashfs::Compression::parse(s.value); }) &&
        parses([&] { erofs::Compression::parse(s.value); }))
        refuse(s, quote(s.value) + " is an EROFS compression; squashfs images take zstd[:1-22], "
                                   "xz[:0-9], gzip[:1-9] or lz4[:hc] (or choose --format erofs)");
    return parse_as(s, "--compression", [&] { return squashfs::Compression::parse(s.value); });
}

erofs::Compression erofs_compression(const Setting& s) {
    if (!s.given())
        return erofs::Compression::parse("lz4hc:12");
    if (!parses([&] { erofs::Compression::parse(s.value); }) &&
        parses([&] { squashfs::Compression::parse(s.value); }))
        refuse(s, quote(s.value) + " is a squashfs compression; EROFS images take none, lz4, "
                                   "lz4hc[:1-12], lzma[:0-9] or zstd[:1-22] (or choose "
                                   "--format squashfs)");
    return parse_as(s, "--compression", [&] { return erofs::Compression::parse(s.value); });
}

} // namespace

ImageFormat parse_image_format(std::string_view text) {
    if (text == "squashfs")
        return ImageFormat::Squashfs;
    if (text == "erofs")
        return ImageFormat::Erofs;
    throw_usage("--format: squashfs or erofs, not " + quote(std::string(text)));
}

const char* image_format_name(ImageFormat f) {
    return f == ImageFormat::Erofs ? "erofs" : "squashfs";
}

namespace {

std::optional<ImageFormat> format_at(int fd, uint64_t offset, const std::string& path) {
    unsigned char head[4] = {}, sb[4] = {};
    if (pread_full(fd, head, sizeof head, static_cast<off_t>(offset), path) == sizeof head &&
        std::memcmp(head, "hsqs", 4) == 0)
        return ImageFormat::Squashfs;
    if (pread_full(fd, sb, sizeof sb, static_cast<off_t>(offset + erofs::k_super_offset), path) ==
            sizeof sb &&
        (uint32_t{sb[0]} | uint32_t{sb[1]} << 8 | uint32_t{sb[2]} << 16 | uint32_t{sb[3]} << 24) ==
            erofs::k_magic)
        return ImageFormat::Erofs;
    return std::nullopt;
}

} // namespace

std::optional<ImageFormat> image_format_of(const std::string& path) {
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    if (auto f = format_at(fd.get(), 0, path))
        return f;
    char gpt[8] = {};
    if (pread_full(fd.get(), gpt, sizeof gpt, ddi::k_sector_size, path) != sizeof gpt ||
        std::memcmp(gpt, "EFI PART", 8) != 0)
        return std::nullopt;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw_errno(path);
    const ddi::GptDisk disk = ddi::read_gpt(fd.get(), static_cast<uint64_t>(st.st_size), path);
    const ddi::DataPartitions parts = ddi::find_data_partitions(disk, path);
    return format_at(fd.get(), parts.data.offset(), path);
}

std::string ImageSettings::compression() const {
    return format == ImageFormat::Erofs ? erofs.compression.to_string()
                                        : squashfs.compression.to_string();
}

std::map<std::string, std::string> ImageSettings::lock_settings() const {
    std::map<std::string, std::string> s;
    s["format"] = image_format_name(format);
    s["compression"] = compression();
    if (format == ImageFormat::Erofs) {
        s["erofs_pcluster"] = std::to_string(erofs.pcluster_size);
        s["fragments"] = erofs.fragments ? "yes" : "no";
    } else
        s["block_size"] = std::to_string(squashfs.block_size);
    s["tail_packing"] = tail_packing() ? "yes" : "no";
    s["xattrs"] = xattrs() ? "yes" : "no";
    return s;
}

const profile::FormatRule* matching_rule(const profile::TargetSpec& target,
                                         const std::map<std::string, std::string>& vars) {
    for (const auto& rule : target.formats) {
        if (rule.when_version.empty())
            return &rule;
        const std::string version = profile::expand(rule.when_version, vars, rule.origin);
        try {
            if (source::compare_versions(version, rule.at_least) >= 0)
                return &rule;
        } catch (const Error& e) {
            throw_input(rule.origin.str() + ": \"when\": " + quote_untrusted(version) + " (from " +
                        quote(rule.when_version) + ") is not a version: " + e.what());
        }
    }
    return nullptr;
}

ImageSettings resolve_image_settings(const FormatRequest& req, const profile::FormatRule* rule,
                                     uint32_t mtime) {
    ImageSettings out;
    const std::string format_name =
        !req.format.empty() ? req.format : rule ? rule->format : std::string("squashfs");
    out.format = parse_image_format(format_name);
    // The rule counts only for the format it describes.
    if (rule && rule->format != format_name)
        rule = nullptr;
    const std::string where = rule ? rule->origin.str() + ": " : "";
    auto pick = [&](const std::string& flag, const std::string& given, const std::string& key,
                    const std::string& from_rule) {
        if (!given.empty())
            return Setting{given, flag, false};
        if (rule && !from_rule.empty())
            return Setting{from_rule, where + quote(key), true};
        return Setting{"", flag, false};
    };
    const Setting compression =
        pick("--compression", req.compression, "compression", rule ? rule->compression : "");
    const int tail = req.tail_packing >= 0 ? req.tail_packing : rule ? rule->tail_packing : -1;
    const int fragments = req.fragments >= 0 ? req.fragments : rule ? rule->fragments : -1;
    if (rule) {
        out.disk_image = rule->disk_image;
        out.rule = rule->origin.str();
    }
    const std::string chosen_by =
        !req.format.empty() ? "" : rule ? " (" + rule->origin.str() + " chooses EROFS)" : "";

    if (out.format == ImageFormat::Erofs) {
        if (!req.block_size.empty())
            throw_usage("--block-size is a squashfs setting; EROFS images take --erofs-pcluster" +
                        chosen_by);
        const Setting pcluster =
            pick("--erofs-pcluster", req.pcluster, "erofs_pcluster", rule ? rule->erofs_pcluster : "");
        erofs::WriterOptions& o = out.erofs;
        o.compression = erofs_compression(compression);
        o.pcluster_size = parse_as(pcluster, "--erofs-pcluster", [&] {
            return erofs::check_pcluster_size(
                parse_size(pcluster.given() ? pcluster.value : "64K", "--erofs-pcluster"),
                "--erofs-pcluster");
        });
        o.jobs = req.jobs;
        o.mtime = mtime;
        o.xattrs = req.xattrs;
        o.tail_packing = tail == 1;
        o.fragments = fragments == 1;
        if (o.fragments && !o.compression.enabled())
            throw_usage("--fragments needs compression: the packed inode is compressed");
        // LZ4HC, LZMA and zstd cost more than a lookup; fast LZ4 does not (as pack decides).
        if (req.cache_forced || o.compression.algorithm != erofs::Compression::Algorithm::Lz4)
            o.cache = req.cache;
        return out;
    }
    if (!req.pcluster.empty())
        throw_usage("--erofs-pcluster needs --format erofs");
    if (req.fragments == 1)
        throw_usage("--fragments needs --format erofs");
    const Setting block_size =
        pick("--block-size", req.block_size, "block_size", rule ? rule->block_size : "");
    squashfs::WriterOptions& o = out.squashfs;
    o.compression = squashfs_compression(compression);
    o.block_size = parse_as(block_size, "--block-size", [&] {
        return squashfs::check_block_size(
            parse_size(block_size.given() ? block_size.value : "128K", "--block-size"));
    });
    o.jobs = req.jobs;
    o.mtime = mtime;
    o.xattrs = req.xattrs;
    o.tail_packing = tail == 1;
    o.cache = req.cache_forced || o.compression.cache_pays_off() ? req.cache : nullptr;
    return out;
}

} // namespace sysext::pipeline

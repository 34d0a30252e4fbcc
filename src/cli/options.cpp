#include "cli/options.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <cstdlib>

namespace sysext::cli {

void ReleaseArgs::add_to(CLI::App& cmd) {
    cmd.add_option("--os-id", os_id, "ID the host's os-release must have (or _any); generates "
                                     "usr/lib/extension-release.d/extension-release.NAME")
        ->group("Release");
    cmd.add_option("--os-version-id", version_id, "VERSION_ID the host must have")->group("Release");
    cmd.add_option("--sysext-level", sysext_level, "SYSEXT_LEVEL, e.g. 1.0")->group("Release");
    cmd.add_option("--arch", arch, "ARCHITECTURE in systemd's naming: x86-64, arm64, ... or _any")
        ->group("Release");
    cmd.add_flag("--reload-manager", reload_manager,
                 "EXTENSION_RELOAD_MANAGER=1: reload systemd after merging")
        ->group("Release");
    cmd.add_option("--scope", scope, "SYSEXT_SCOPE, words from: initrd system portable")->group("Release");
    cmd.add_option("--release", extra, "A further KEY=VALUE line (repeatable)")
        ->allow_extra_args(false)
        ->group("Release");
}

std::optional<release::Fields> ReleaseArgs::fields() const {
    if (os_id.empty()) {
        if (!version_id.empty() || !sysext_level.empty() || !arch.empty() || !scope.empty() ||
            reload_manager || !extra.empty())
            throw_usage("release flags need --os-id (the host's ID, or _any)");
        return std::nullopt;
    }
    release::Fields f;
    f.os_id = os_id;
    f.version_id = version_id;
    f.sysext_level = sysext_level;
    f.architecture = arch;
    f.scope = scope;
    f.reload_manager = reload_manager;
    for (const auto& kv : extra) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
            throw_usage("--release: expected KEY=VALUE, got " + quote(kv));
        f.extra.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    return f;
}

void CacheArgs::add_to(CLI::App& cmd) {
    cmd.add_option("--cache-dir", dir,
                   "Cache of compressed blocks (default $XDG_CACHE_HOME/sysext-build/blocks, "
                   "else ~/.cache/sysext-build/blocks); it never changes the output's bytes")
        ->group("Cache");
    auto* no = cmd.add_flag("--no-cache", disabled,
                            "Compress everything, neither reading nor filling the cache")
                   ->group("Cache");
    cmd.add_flag("--cache", forced,
                 "Use the cache for squashfs blocks at any compression; by default only "
                 "where looking up costs less than compressing (xz, gzip:6 and up, lz4:hc, "
                 "zstd:10 and up); payload chunks always use it")
        ->group("Cache")
        ->excludes(no);
    cmd.add_option("--cache-max-size", max_size,
                   "After the work, remove least recently used cache entries beyond this "
                   "size (default 4G)")
        ->group("Cache");
}

std::unique_ptr<BlockCache> CacheArgs::open() const {
    if (disabled)
        return nullptr;
    // Checked before any work, so a typo does not cost a whole build.
    parse_size(max_size, "--cache-max-size");
    if (!dir.empty())
        return std::make_unique<BlockCache>(dir);
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    if (!(xdg && xdg[0] == '/') && !(home && home[0] == '/'))
        return nullptr;
    return std::make_unique<BlockCache>(default_block_cache());
}

void CacheArgs::finish(const BlockCache* cache, Reporter& reporter) const {
    if (cache == nullptr)
        return;
    const BlockCacheCounters c = cache->counters();
    if (c.store_failures > 0)
        reporter.warn(std::to_string(c.store_failures) +
                      " block(s) could not be stored in the cache: " + cache->first_store_error());
    if (c.damaged > 0)
        reporter.warn(std::to_string(c.damaged) + " damaged cache entr" +
                      (c.damaged == 1 ? "y was" : "ies were") + " ignored and removed in " +
                      cache->dir());
    try {
        prune_block_cache(cache->dir(), parse_size(max_size, "--cache-max-size"));
    } catch (const Error& e) {
        reporter.warn(std::string("pruning the block cache: ") + e.what());
    }
}

nlohmann::json cache_json(const BlockCache& cache) {
    const BlockCacheCounters c = cache.counters();
    return {{"dir", cache.dir()},
            {"hits", c.hits},
            {"misses", c.misses},
            {"damaged", c.damaged},
            {"stored", c.stored}};
}

void PackingArgs::add_to(CLI::App& cmd) {
    cmd.add_option("--compression", compression,
                   "squashfs: zstd[:1-22], xz[:0-9], gzip[:1-9] or lz4[:hc] (default zstd:15); "
                   "EROFS: none, lz4, lz4hc[:1-12], lzma[:0-9] or zstd[:1-22] (default lz4hc:12)")
        ->group("Packing");
    cmd.add_option("--block-size", block_size, "Data block size, 4K to 1M (default 128K)")->group("Packing");
    cmd.add_option("-j,--jobs", jobs, "Compression threads (default: one per core); "
                                      "the image is the same for any number")
        ->group("Packing");
    cmd.add_option("--mtime", mtime, "Time of every entry, in seconds since 1970 "
                                     "(default: $SOURCE_DATE_EPOCH, else 0)")
        ->group("Packing");
    cmd.add_flag("--keep-owners", keep_owners, "Keep the source's owners (default: root:root)")
        ->group("Packing");
    cmd.add_flag("--no-xattrs", no_xattrs, "Do not store extended attributes")->group("Packing");
    cmd.add_flag("--tail-packing", tail_packing,
                 "Pack the last partial block of large files into fragment blocks too "
                 "(EROFS: store a compressed file's end after its inode when it compresses "
                 "into less than a block, as mkfs.erofs -Eztailpacking)")
        ->group("Packing");
    cache.add_to(cmd);
}

void FormatArgs::add_to(CLI::App& cmd) {
    cmd.add_option("--format", format,
                   "Image file system: squashfs (default; for build, the target's choice) or "
                   "erofs (compression none, lz4, lz4hc[:1-12], lzma[:0-9] or zstd[:1-22], "
                   "default lz4hc:12)")
        ->group("Packing");
    cmd.add_option("--erofs-pcluster", pcluster,
                   "EROFS physical cluster: the most compressed bytes per extent, 4K to 1M "
                   "in 4K steps (default 64K)")
        ->group("Packing");
    cmd.add_flag("--fragments", fragments,
                 "EROFS: put the end of each compressed file that does not fill a pcluster, "
                 "and small files whole, into one packed inode compressed as a whole "
                 "(mkfs.erofs -Efragments; Linux 6.1 or later)")
        ->group("Packing");
}

pipeline::ImageFormat FormatArgs::image_format(const CLI::App& cmd) const {
    const pipeline::ImageFormat f = pipeline::parse_image_format(format);
    if (f == pipeline::ImageFormat::Erofs) {
        if (cmd.count("--block-size"))
            throw_usage("--block-size is a squashfs setting; EROFS images take --erofs-pcluster");
    } else if (cmd.count("--erofs-pcluster")) {
        throw_usage("--erofs-pcluster needs --format erofs");
    } else if (fragments) {
        throw_usage("--fragments needs --format erofs");
    }
    return f;
}

erofs::WriterOptions FormatArgs::erofs_options(const CLI::App& cmd, const PackingArgs& packing) const {
    erofs::WriterOptions o;
    o.compression = erofs::Compression::parse(cmd.count("--compression") ? packing.compression
                                                                          : "lz4hc:12");
    o.pcluster_size = erofs::check_pcluster_size(
        parse_size(pcluster.empty() ? "64K" : pcluster, "--erofs-pcluster"), "--erofs-pcluster");
    o.jobs = packing.jobs;
    o.mtime = resolve_mtime(packing.mtime);
    o.xattrs = !packing.no_xattrs;
    o.tail_packing = packing.tail_packing;
    o.fragments = fragments;
    if (o.fragments && !o.compression.enabled())
        throw_usage("--fragments needs compression: the packed inode is compressed");
    return o;
}

uint32_t resolve_mtime(const std::string& flag) {
    std::string text = flag;
    std::string what = "--mtime";
    if (text.empty()) {
        const char* env = std::getenv("SOURCE_DATE_EPOCH");
        if (env == nullptr || *env == '\0')
            return 0;
        text = env;
        what = "SOURCE_DATE_EPOCH";
    }
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9' || value > 0xFFFFFFFFull)
            throw_usage(what + ": not a time in seconds since 1970 that squashfs can hold: " +
                        quote(text));
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (value > 0xFFFFFFFFull)
        throw_usage(what + ": " + text + " is past 2106, beyond what squashfs can hold");
    return static_cast<uint32_t>(value);
}

source::SourceOptions PackingArgs::source_options() const {
    source::SourceOptions o;
    o.keep_owners = keep_owners;
    o.xattrs = !no_xattrs;
    o.mtime = resolve_mtime(mtime);
    return o;
}

squashfs::WriterOptions PackingArgs::writer_options() const {
    squashfs::WriterOptions o;
    o.compression = squashfs::Compression::parse(compression);
    o.block_size = squashfs::check_block_size(parse_size(block_size, "--block-size"));
    o.jobs = jobs;
    o.mtime = resolve_mtime(mtime);
    o.xattrs = !no_xattrs;
    o.tail_packing = tail_packing;
    return o;
}

} // namespace sysext::cli

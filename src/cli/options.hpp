// Flags shared by the commands that produce images (pack, build).
#pragma once

#include "sysext/erofs/writer.hpp"
#include "sysext/pipeline/pack.hpp"
#include "sysext/release/release.hpp"
#include "sysext/source/options.hpp"
#include "sysext/squashfs/writer.hpp"
#include "sysext/util/block_cache.hpp"
#include "sysext/util/reporter.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sysext::cli {

struct ReleaseArgs {
    std::string os_id, version_id, sysext_level, arch, scope;
    bool reload_manager = false;
    std::vector<std::string> extra; // KEY=VALUE

    void add_to(CLI::App& cmd);
    // nullopt when no release flag was given (the source must carry the file).
    std::optional<release::Fields> fields() const;
};

// The block cache of compressed blocks and payload chunks (pack, build, payload create).
struct CacheArgs {
    std::string dir; // "" = default_block_cache()
    bool disabled = false;
    bool forced = false; // --cache: also at settings where it does not pay off
    std::string max_size = "4G";

    void add_to(CLI::App& cmd);
    // The cache the flags ask for; null with --no-cache, or when there is no
    // home directory to put the default one in.
    std::unique_ptr<BlockCache> open() const;
    // After the work: prunes least recently used entries down to the bound, and
    // tells of entries that could not be stored. Never fails the command.
    void finish(const BlockCache* cache, Reporter& reporter) const;
    // The cache for squashfs blocks at these settings: the opened cache when
    // it pays off (Compression::cache_pays_off) or --cache asks, else null.
    BlockCache* for_blocks(BlockCache* cache, const squashfs::Compression& c) const {
        return forced || c.cache_pays_off() ? cache : nullptr;
    }
};

// What a command's --json tells of the cache: its directory, hits, misses,
// damaged entries and entries stored.
nlohmann::json cache_json(const BlockCache& cache);

struct PackingArgs {
    std::string compression = "zstd";
    std::string block_size = "128K";
    unsigned jobs = 0;
    std::string mtime; // "" = $SOURCE_DATE_EPOCH, else 0
    bool keep_owners = false;
    bool no_xattrs = false;
    bool tail_packing = false;
    CacheArgs cache;

    void add_to(CLI::App& cmd);
    source::SourceOptions source_options() const;
    squashfs::WriterOptions writer_options() const;
};

// --format and the EROFS settings (pack).
struct FormatArgs {
    std::string format = "squashfs";
    std::string pcluster; // "" = 64K
    bool fragments = false;

    void add_to(CLI::App& cmd);
    // Checks that the flags given suit the format: --block-size is a squashfs
    // setting, --erofs-pcluster and --fragments EROFS ones.
    pipeline::ImageFormat image_format(const CLI::App& cmd) const;
    // EROFS settings from these flags and the packing flags; --compression
    // means LZ4 settings for EROFS, lz4hc:12 unless given.
    erofs::WriterOptions erofs_options(const CLI::App& cmd, const PackingArgs& packing) const;
};

// The time every entry gets: --mtime, else $SOURCE_DATE_EPOCH, else 0.
uint32_t resolve_mtime(const std::string& flag);

// Where profiles are looked for by name (build_cmd.cpp): $SYSEXT_BUILD_PROFILES,
// ./profiles, then next to the executable.
std::vector<std::string> profile_dirs();

} // namespace sysext::cli

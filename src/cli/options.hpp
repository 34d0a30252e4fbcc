// Flags shared by the commands that produce images (pack, build).
#pragma once

#include "sysext/release/release.hpp"
#include "sysext/source/options.hpp"
#include "sysext/squashfs/writer.hpp"

#include <CLI/CLI.hpp>

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

struct PackingArgs {
    std::string compression = "zstd";
    std::string block_size = "128K";
    unsigned jobs = 0;
    std::string mtime; // "" = $SOURCE_DATE_EPOCH, else 0
    bool keep_owners = false;
    bool no_xattrs = false;
    bool tail_packing = false;

    void add_to(CLI::App& cmd);
    source::SourceOptions source_options() const;
    squashfs::WriterOptions writer_options() const;
};

// The time every entry gets: --mtime, else $SOURCE_DATE_EPOCH, else 0.
uint32_t resolve_mtime(const std::string& flag);

// Where profiles are looked for by name (build_cmd.cpp): $SYSEXT_BUILD_PROFILES,
// ./profiles, then next to the executable.
std::vector<std::string> profile_dirs();

} // namespace sysext::cli

// `sysext-build cache stats|prune`: the cache of compressed blocks and payload
// chunks that pack, build and payload create share (see util/block_cache.hpp).
#include "cli/command.hpp"
#include "sysext/util/block_cache.hpp"
#include "sysext/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

namespace sysext::cli {

namespace {

struct CacheFlags {
    std::string dir;
    std::string max_size = "4G";
};

std::string cache_dir(const CacheFlags& f) {
    return f.dir.empty() ? default_block_cache() : f.dir;
}

std::string utc_time(int64_t t) {
    if (t == 0)
        return "-";
    char buf[32];
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

nlohmann::json usage_json(const BlockCacheUsage& u) {
    return {{"entries", u.entries},
            {"bytes", u.bytes},
            {"oldest_use", u.oldest_use},
            {"newest_use", u.newest_use}};
}

void run_stats(const CacheFlags& f, const GlobalOptions& g) {
    const std::string dir = cache_dir(f);
    const BlockCacheUsage u = block_cache_usage(dir);
    if (g.json) {
        nlohmann::json j = usage_json(u);
        j["dir"] = dir;
        std::printf("%s\n", j.dump(2).c_str());
        return;
    }
    std::printf("%s: %llu entries, %s, least recently used %s, most recently %s\n", dir.c_str(),
                static_cast<unsigned long long>(u.entries), format_size(u.bytes).c_str(),
                utc_time(u.oldest_use).c_str(), utc_time(u.newest_use).c_str());
}

void run_prune(const CacheFlags& f, const GlobalOptions& g) {
    const std::string dir = cache_dir(f);
    const uint64_t bound = parse_size(f.max_size, "--cache-max-size");
    const PruneResult r = prune_block_cache(dir, bound);
    if (g.json) {
        nlohmann::json j = {{"dir", dir},
                            {"max_size", bound},
                            {"removed", r.removed},
                            {"before", usage_json(r.before)},
                            {"after", usage_json(r.after)}};
        std::printf("%s\n", j.dump(2).c_str());
    } else if (!g.quiet) {
        std::printf("%s: removed %llu of %llu entries, %s left\n", dir.c_str(),
                    static_cast<unsigned long long>(r.removed),
                    static_cast<unsigned long long>(r.before.entries),
                    format_size(r.after.bytes).c_str());
    }
}

} // namespace

static CommandRegistration reg{
    70, [](CLI::App& app, const GlobalOptions& g) {
        auto flags = std::make_shared<CacheFlags>();
        CLI::App* cache = app.add_subcommand(
            "cache", "Show or prune the cache of compressed blocks (default "
                     "$XDG_CACHE_HOME/sysext-build/blocks, else ~/.cache/sysext-build/blocks)");
        cache->require_subcommand(1);

        CLI::App* stats = cache->add_subcommand("stats", "Entries, bytes and the oldest use");
        stats->add_option("--cache-dir", flags->dir, "The cache directory");
        stats->callback([flags, &g] { run_stats(*flags, g); });

        CLI::App* prune = cache->add_subcommand(
            "prune", "Remove least recently used entries until the cache fits the size");
        prune->add_option("--cache-max-size", flags->max_size,
                          "The size to fit, e.g. 2G or 0 (default 4G)");
        prune->add_option("--cache-dir", flags->dir, "The cache directory");
        prune->callback([flags, &g] { run_prune(*flags, g); });
    }};

} // namespace sysext::cli

#include "sysext/squashfs/compression.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

namespace sysext::squashfs {

namespace {
struct AlgorithmInfo {
    Algorithm algorithm;
    const char* name;
    unsigned min_level, max_level, default_level;
};
// Defaults follow squashfs-tools-ng (zstd 15, xz 6, gzip 9) so that images are
// comparable with gensquashfs at its defaults.
constexpr AlgorithmInfo k_algorithms[] = {
    {Algorithm::Zstd, "zstd", 1, 22, 15},
    {Algorithm::Xz, "xz", 0, 9, 6},
    {Algorithm::Gzip, "gzip", 1, 9, 9},
    {Algorithm::Lz4, "lz4", 0, 1, 0},
};

const AlgorithmInfo& info(Algorithm a) {
    for (const auto& i : k_algorithms)
        if (i.algorithm == a)
            return i;
    throw Error(ErrorKind::Internal, "unknown compressor");
}
} // namespace

const char* algorithm_name(Algorithm a) { return info(a).name; }

bool Compression::cache_pays_off() const {
    switch (algorithm) {
    case Algorithm::Xz: return true;
    case Algorithm::Gzip: return level >= 6;
    case Algorithm::Lz4: return level != 0;
    case Algorithm::Zstd: return level >= 10;
    }
    return false;
}

Compression Compression::parse(std::string_view spec) {
    auto colon = spec.find(':');
    std::string_view name = spec.substr(0, colon);
    std::string_view level = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
    for (const auto& i : k_algorithms) {
        if (name != i.name)
            continue;
        Compression c{i.algorithm, i.default_level};
        if (colon == std::string_view::npos)
            return c;
        if (i.algorithm == Algorithm::Lz4) {
            if (level != "hc")
                throw_usage("--compression: lz4 takes no level, only \"lz4:hc\" (got " +
                            quote(spec) + ")");
            c.level = 1;
            return c;
        }
        unsigned value = 0;
        bool digits = !level.empty() && level.size() <= 3;
        for (char ch : level) {
            digits = digits && ch >= '0' && ch <= '9';
            value = value * 10 + static_cast<unsigned>(ch - '0');
        }
        if (!digits || value < i.min_level || value > i.max_level)
            throw_usage("--compression: " + std::string(i.name) + " level " +
                        quote(level) + " is out of range (" + std::to_string(i.min_level) +
                        ".." + std::to_string(i.max_level) + ")");
        c.level = value;
        return c;
    }
    std::string msg = "--compression: unknown compressor " + quote(name) +
                      " (choose zstd, xz, gzip or lz4)";
    throw_usage(msg);
}

std::string Compression::to_string() const {
    if (algorithm == Algorithm::Lz4)
        return level ? "lz4:hc" : "lz4";
    return std::string(algorithm_name(algorithm)) + ":" + std::to_string(level);
}

uint32_t check_block_size(uint64_t size) {
    if (size < 4096 || size > (1u << 20) || (size & (size - 1)) != 0)
        throw_usage("--block-size: " + std::to_string(size) +
                    " is not a power of two from 4K to 1M");
    return static_cast<uint32_t>(size);
}

} // namespace sysext::squashfs

// Compressor choice for squashfs images: "zstd:19", "xz", "gzip:9", "lz4:hc".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sysext::squashfs {

enum class Algorithm : uint16_t { Gzip = 1, Xz = 4, Lz4 = 5, Zstd = 6 };

struct Compression {
    Algorithm algorithm = Algorithm::Zstd;
    // Level for gzip (1..9), xz (0..9), zstd (1..22); for lz4, 1 means high-compression mode.
    unsigned level = 15;

    // Parses "NAME[:LEVEL]" (lz4 takes "hc"); throws Usage naming --compression.
    static Compression parse(std::string_view spec);
    std::string to_string() const;
    // Whether looking blocks up in the block cache costs less than compressing
    // them: true for xz, gzip from level 6, lz4:hc and zstd from level 10. At
    // faster settings hashing and storing every block makes a first build
    // slower than compressing it again (measured: zstd:1 3.5 s with a cold
    // cache against 2.5 s without).
    bool cache_pays_off() const;
    bool operator==(const Compression&) const = default;
};

const char* algorithm_name(Algorithm a);

// A power of two from 4 KiB to 1 MiB, as squashfs requires; throws Usage otherwise.
uint32_t check_block_size(uint64_t size);

} // namespace sysext::squashfs

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
    bool operator==(const Compression&) const = default;
};

const char* algorithm_name(Algorithm a);

// A power of two from 4 KiB to 1 MiB, as squashfs requires; throws Usage otherwise.
uint32_t check_block_size(uint64_t size);

} // namespace sysext::squashfs

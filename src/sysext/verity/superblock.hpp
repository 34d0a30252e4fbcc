// The dm-verity superblock: the 512-byte header cryptsetup writes in front of a
// hash tree (cryptsetup's DMVerity wiki, "Verity superblock format").
//
// systemd opens sidecar `NAME.verity` files and DDI verity partitions with
// crypt_load(CRYPT_VERITY) and no parameters, which reads this header, so every
// tree we write carries one; the hash tree then starts at the next hash block.
// All integers are little-endian.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace sysext::verity {

inline constexpr size_t k_superblock_size = 512;
inline constexpr size_t k_max_salt_size = 256;

struct Superblock {
    uint32_t version = 1;           // superblock format version
    uint32_t hash_type = 1;         // 1: salt hashed before the block ("normal"); 0: Chrome OS
    std::array<uint8_t, 16> uuid{}; // bytes in the order of the UUID's text form
    std::string algorithm = "sha256";
    uint32_t data_block_size = 4096;
    uint32_t hash_block_size = 4096;
    uint64_t data_blocks = 0;
    std::string salt; // raw bytes, at most k_max_salt_size
};

std::array<uint8_t, k_superblock_size> encode_superblock(const Superblock& sb);

// Parses a header and insists on the canonical form: the magic, a known version,
// a NUL-padded algorithm name and zeros in every padding byte, so that a changed
// byte anywhere in the header is reported. Throws a Verify error naming `what`.
Superblock decode_superblock(const uint8_t* data, const std::string& what);

} // namespace sysext::verity

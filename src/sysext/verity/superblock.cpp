#include "sysext/verity/superblock.hpp"

#include "sysext/util/endian.hpp"
#include "sysext/util/error.hpp"

#include <cstring>

namespace sysext::verity {

namespace {

// Field offsets within the 512-byte header.
constexpr size_t k_off_version = 8;
constexpr size_t k_off_hash_type = 12;
constexpr size_t k_off_uuid = 16;
constexpr size_t k_off_algorithm = 32;
constexpr size_t k_algorithm_size = 32;
constexpr size_t k_off_data_block_size = 64;
constexpr size_t k_off_hash_block_size = 68;
constexpr size_t k_off_data_blocks = 72;
constexpr size_t k_off_salt_size = 80;
constexpr size_t k_off_salt = 88;
constexpr char k_magic[8] = {'v', 'e', 'r', 'i', 't', 'y', 0, 0};

bool all_zero(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != 0)
            return false;
    return true;
}

} // namespace

std::array<uint8_t, k_superblock_size> encode_superblock(const Superblock& sb) {
    if (sb.salt.size() > k_max_salt_size)
        throw_usage("dm-verity salt is " + std::to_string(sb.salt.size()) +
                    " bytes; at most 256 fit in the superblock");
    if (sb.algorithm.size() >= k_algorithm_size)
        throw_usage("dm-verity hash algorithm name too long: " + sb.algorithm);
    std::array<uint8_t, k_superblock_size> out{};
    std::memcpy(out.data(), k_magic, sizeof k_magic);
    put_le(out.data() + k_off_version, sb.version, 4);
    put_le(out.data() + k_off_hash_type, sb.hash_type, 4);
    std::memcpy(out.data() + k_off_uuid, sb.uuid.data(), sb.uuid.size());
    std::memcpy(out.data() + k_off_algorithm, sb.algorithm.data(), sb.algorithm.size());
    put_le(out.data() + k_off_data_block_size, sb.data_block_size, 4);
    put_le(out.data() + k_off_hash_block_size, sb.hash_block_size, 4);
    put_le(out.data() + k_off_data_blocks, sb.data_blocks, 8);
    put_le(out.data() + k_off_salt_size, sb.salt.size(), 2);
    std::memcpy(out.data() + k_off_salt, sb.salt.data(), sb.salt.size());
    return out;
}

Superblock decode_superblock(const uint8_t* p, const std::string& what) {
    if (std::memcmp(p, k_magic, sizeof k_magic) != 0)
        throw_verify(what + ": no dm-verity superblock (magic \"verity\" missing)");
    Superblock sb;
    sb.version = static_cast<uint32_t>(get_le(p + k_off_version, 4));
    if (sb.version != 1)
        throw_verify(what + ": unsupported dm-verity superblock version " +
                     std::to_string(sb.version));
    sb.hash_type = static_cast<uint32_t>(get_le(p + k_off_hash_type, 4));
    if (sb.hash_type != 1)
        throw_verify(what + ": unsupported dm-verity hash format " + std::to_string(sb.hash_type) +
                     " (expected 1)");
    std::memcpy(sb.uuid.data(), p + k_off_uuid, sb.uuid.size());
    const auto* alg = reinterpret_cast<const char*>(p + k_off_algorithm);
    size_t alg_len = strnlen(alg, k_algorithm_size);
    if (alg_len == k_algorithm_size ||
        !all_zero(p + k_off_algorithm + alg_len, k_algorithm_size - alg_len))
        throw_verify(what + ": dm-verity superblock has a malformed algorithm name");
    sb.algorithm.assign(alg, alg_len);
    sb.data_block_size = static_cast<uint32_t>(get_le(p + k_off_data_block_size, 4));
    sb.hash_block_size = static_cast<uint32_t>(get_le(p + k_off_hash_block_size, 4));
    sb.data_blocks = get_le(p + k_off_data_blocks, 8);
    size_t salt_size = get_le(p + k_off_salt_size, 2);
    if (salt_size > k_max_salt_size)
        throw_verify(what + ": dm-verity salt size " + std::to_string(salt_size) + " exceeds 256");
    sb.salt.assign(reinterpret_cast<const char*>(p + k_off_salt), salt_size);
    if (!all_zero(p + k_off_salt_size + 2, k_off_salt - k_off_salt_size - 2) ||
        !all_zero(p + k_off_salt + salt_size, k_superblock_size - k_off_salt - salt_size))
        throw_verify(what + ": dm-verity superblock has non-zero padding");
    return sb;
}

} // namespace sysext::verity

// Creating a full Flatcar update payload from an image (shared/specs/flatcar-payload.md).
//
// One REPLACE or REPLACE_BZ operation per 1 MiB chunk, compressed on all cores;
// new_partition_info with the image's size and SHA-256; the signature area with
// its dummy operation; then either signatures made with the given keys, or (for
// offline signing) nothing yet but space reserved for signatures of given sizes,
// and the SHA-256 of the signed range to be signed elsewhere.
#pragma once

#include "signing/key.hpp"
#include "sysext/util/block_cache.hpp"
#include "sysext/util/reporter.hpp"
#include "sysext/util/sha256.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sysext::payload {

struct CreateOptions {
    std::string image;
    std::string output;
    // Sign with these keys (RSA: the host client checks RSASSA-PKCS1-v1_5)...
    std::span<const signing::PrivateKey> keys;
    // ...or, with no keys, leave the payload unsigned with room for signatures of
    // exactly these sizes (256 for an RSA-2048 key), in the order they will be attached.
    std::vector<size_t> reserved_signature_sizes;
    // If set, the raw 32-byte SHA-256 of the signed range is written here.
    std::string hash_file;
    unsigned jobs = 0; // compression threads; 0: one per core
    // Chunks' stored forms are looked up here first and kept after (null: no
    // cache); the payload's bytes are the same either way.
    BlockCache* cache = nullptr;
};

struct CreateResult {
    uint64_t image_size = 0;
    sysext::Digest image_hash{};
    uint64_t payload_size = 0;
    sysext::Digest signed_hash{}; // SHA-256 of the signed range
    size_t operations = 0;
    size_t compressed_operations = 0;
    size_t signatures = 0; // 0 for an unsigned payload
};

CreateResult create_payload(const CreateOptions& options, Reporter& reporter);

// The signature size each payload key makes; refuses keys the host cannot check.
std::vector<size_t> payload_signature_sizes(std::span<const signing::PrivateKey> keys);

// How many signatures an unsigned payload has room for unless told otherwise:
// Flatcar's release payloads carry two.
inline constexpr size_t k_default_signatures = 2;
// The sizes to reserve for `count` RSA-2048 signatures (256 bytes each); refuses
// a count whose versions the format cannot number (1 to k_max_signatures).
std::vector<size_t> rsa2048_signature_sizes(size_t count);

} // namespace sysext::payload

// Constants and small building blocks of the Flatcar update payload ("CrAU").
//
// Layout (shared/specs/flatcar-payload.md, after update_engine's delta_metadata.cc
// and payload_signer.cc): a 20-byte header (magic, big-endian format version 1,
// big-endian manifest size), the DeltaArchiveManifest protobuf, the operations'
// data blobs, then the Signatures protobuf. The signed range is everything before
// the signatures; the manifest names their offset and size and carries one dummy
// "noop" operation covering them, which older clients need.
#pragma once

#include "payload/update_metadata.pb.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sysext::payload {

namespace pb = chromeos_update_engine;

inline constexpr std::string_view k_magic = "CrAU";
inline constexpr uint64_t k_format_version = 1;
inline constexpr uint64_t k_header_size = 4 + 8 + 8;
inline constexpr uint32_t k_block_size = 4096;
inline constexpr uint64_t k_chunk_size = 1024 * 1024;
// The dummy signature operation "writes" here: a block no image has.
inline constexpr uint64_t k_sparse_hole = UINT64_MAX;
// The last signature carries this version; older clients look for it.
inline constexpr uint32_t k_last_signature_version = 2;
// Versions count up to 2 from 3 - N, so more signatures than this cannot be numbered.
inline constexpr size_t k_max_signatures = 3;
// What an RSA-2048 key's PKCS#1 v1.5 signature takes, the key size Flatcar uses.
inline constexpr size_t k_rsa2048_signature_size = 256;

// The 20 header bytes for a manifest of the given size.
std::string encode_header(uint64_t manifest_size);

// The version of signature `index` (0-based) of `count`: the last one is 2.
uint32_t signature_version(size_t index, size_t count);

// The serialized Signatures message holding these signatures, in this order.
std::string encode_signatures(const std::vector<std::string>& signatures);

// The size encode_signatures() gives for signatures of these sizes: what must be
// reserved before signing for the signed range to stay the same afterwards.
uint64_t signatures_blob_size(const std::vector<size_t>& signature_sizes);

// Records where the signature blob lies (counted from the end of the manifest)
// and adds the dummy operation describing it.
void set_signature_area(pb::DeltaArchiveManifest& manifest, uint64_t offset, uint64_t size);

// "REPLACE", "REPLACE_BZ", ...; "type N" for values the format does not name.
std::string operation_type_name(int type);

} // namespace sysext::payload

// Verifying a payload the way a Flatcar host does before installing it, and more.
//
// The checks, in order, each named in its failure ("PATH: <check> check failed"):
// file hash (when announced), header, magic, version, manifest size, manifest,
// block size, procedures, data offsets (each operation's data follows the last,
// inside the file), signature area (right after the last data), file size (the signatures end
// the file), signature operation (the dummy noop entry), signatures (the blob
// parses), signature versions (count up to 2), signature (each public key verifies
// one signature over the signed range), operation hash, operation extents (exactly
// one per operation, in order, covering the image; the last may reach past the
// image's end to the end of its 1 MiB chunk, as Flatcar's generator declares it),
// operation data (bzip2, and the length: the extent's, the last one's up to the
// image's end), partition info, image size, image hash. Sources: ue-rs
// (update-format-crau, download/package.rs), update_engine payload_processor.cc,
// delta_performer.cc, payload_signer.cc. Everything streams in bounded memory.
#pragma once

#include "signing/key.hpp"
#include "sysext/util/reporter.hpp"
#include "sysext/util/sha256.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sysext::payload {

struct VerifyOptions {
    std::string payload;
    std::span<const signing::PublicKey> public_keys; // each must verify a signature
    std::optional<sysext::Digest> file_sha256;        // as an update server announces it
    std::string extract;                              // write the rebuilt image here if set
    // Every check a host makes but the signatures' keys (no keys needed): what
    // `inspect` runs without --public-key. An unsigned payload (room reserved
    // for signatures) passes it; VerifyResult::unsigned_payload says so.
    bool structure_only = false;
};

struct SignatureMatch {
    std::string key;     // the public key's description
    uint32_t version = 0; // of the signature it verified
};

struct VerifyResult {
    bool unsigned_payload = false; // structure_only: the signature room holds no signatures yet
    uint64_t payload_size = 0;
    uint64_t image_size = 0;
    sysext::Digest image_hash{};
    sysext::Digest signed_hash{};
    size_t operations = 0;
    size_t signatures = 0;
    std::vector<SignatureMatch> matches;
    std::vector<std::string> checks; // the checks passed, in order
};

VerifyResult verify_payload(const VerifyOptions& options, Reporter& reporter);

} // namespace sysext::payload

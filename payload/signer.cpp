#include "payload/signer.hpp"

#include "payload/format.hpp"
#include "payload/payload_io.hpp"
#include "payload/reader.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"

#include <algorithm>

namespace sysext::payload {

namespace {

std::string join_sizes(const std::vector<std::string>& signatures) {
    std::string out;
    for (const auto& s : signatures)
        out += (out.empty() ? "" : ", ") + std::to_string(s.size());
    return out;
}

std::string signatures_text(size_t n) {
    return std::to_string(n) + (n == 1 ? " signature" : " signatures");
}

// What a payload's reserved signature area holds, as a count of signatures of
// one size, so that a mistake can be named as the signer sees it.
struct Room {
    size_t count = 0; // 0: no count of one size fills the area
    size_t size = 0;
};

// Tried with the size of the signatures given (when they agree), then with
// RSA-2048, -3072 and -4096 signatures; the area's size tells them apart.
Room room_of(uint64_t reserved, const std::vector<std::string>& given) {
    std::vector<size_t> sizes;
    if (std::all_of(given.begin(), given.end(),
                    [&](const std::string& s) { return s.size() == given.front().size(); }))
        sizes.push_back(given.front().size());
    sizes.insert(sizes.end(), {k_rsa2048_signature_size, 384, 512});
    for (size_t size : sizes)
        for (size_t n = 1; n <= k_max_signatures; ++n)
            if (signatures_blob_size(std::vector<size_t>(n, size)) == reserved)
                return {n, size};
    return {};
}

} // namespace

sysext::Digest signed_range_hash(const std::string& payload) {
    PayloadFile file = PayloadFile::open(payload);
    return hash_prefix(file.fd(), file.signed_size(), payload);
}

AttachResult attach_signatures(const AttachOptions& options) {
    if (options.signatures.empty())
        throw_usage("no signatures to attach");
    PayloadFile file = PayloadFile::open(options.payload);
    const uint64_t signed_size = file.signed_size();
    const uint64_t reserved = file.manifest().signatures_size();
    if (file.file_size() != signed_size && file.file_size() != signed_size + reserved)
        fail_check(options.payload, "file size",
                   "the file has " + std::to_string(file.file_size()) +
                       " bytes; an unsigned payload ends at its signed range (" +
                       std::to_string(signed_size) + " bytes), a signed one after " +
                       std::to_string(reserved) + " more");

    const auto& given = options.signatures;
    for (size_t i = 0; i < given.size(); ++i)
        if (given[i].empty())
            throw_input(options.payload + ": signature " + std::to_string(i + 1) + " of " +
                        std::to_string(given.size()) + " is empty");
    // The signature area was sized for a number of signatures: say so in those terms.
    const Room room = room_of(reserved, given);
    if (room.count != 0 && room.count != given.size())
        throw_usage(options.payload + ": this payload has room for " + signatures_text(room.count) +
                    "; you gave " + std::to_string(given.size()) +
                    " (one per key it was made for, in key order, the production key's last)");
    std::string blob = encode_signatures(given);
    if (blob.size() != reserved) {
        // The right count, so some signature has another size than the room's.
        for (size_t i = 0; room.count != 0 && i < given.size(); ++i)
            if (given[i].size() != room.size)
                throw_input(options.payload + ": this payload has room for " +
                            signatures_text(room.count) + " of " + std::to_string(room.size) +
                            " bytes; signature " + std::to_string(i + 1) + " of " +
                            std::to_string(given.size()) + " has " +
                            std::to_string(given[i].size()) +
                            " bytes (made with a key of another size, or cut short?)");
        throw_input(options.payload + ": signatures of " + join_sizes(given) + " bytes make a " +
                    std::to_string(blob.size()) + "-byte signature blob, but the payload reserved " +
                    std::to_string(reserved) +
                    " bytes; attach as many signatures, of the sizes, as were reserved");
    }

    AttachResult result;
    result.signed_hash = hash_prefix(file.fd(), signed_size, options.payload);
    for (const auto& key : options.public_keys) {
        bool found = false;
        for (const auto& sig : options.signatures)
            found = found || signing::verify_sha256_digest(key, result.signed_hash, sig);
        if (!found)
            fail_check(options.payload, "signature",
                       "none of the " + std::to_string(options.signatures.size()) +
                           " signatures verifies with the " + key.description() +
                           " (signed the wrong hash, or with another key?)");
    }

    AtomicFile out(options.output);
    Sha256 copied;
    copy_range_hashed(file.fd(), 0, signed_size, out.fd(), copied, options.payload);
    if (copied.finish() != result.signed_hash)
        throw_input(options.payload + ": the file changed while signatures were attached");
    out.write(blob);
    out.commit();
    result.payload_size = signed_size + blob.size();
    return result;
}

} // namespace sysext::payload

#include "payload/signer.hpp"

#include "payload/format.hpp"
#include "payload/payload_io.hpp"
#include "payload/reader.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"

namespace sysext::payload {

namespace {

std::string join_sizes(const std::vector<std::string>& signatures) {
    std::string out;
    for (const auto& s : signatures)
        out += (out.empty() ? "" : ", ") + std::to_string(s.size());
    return out;
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

    std::string blob = encode_signatures(options.signatures);
    if (blob.size() != reserved)
        throw_input(options.payload + ": signatures of " + join_sizes(options.signatures) +
                    " bytes make a " + std::to_string(blob.size()) +
                    "-byte signature blob, but the payload reserved " + std::to_string(reserved) +
                    " bytes; attach as many signatures, of the sizes, as were reserved");

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

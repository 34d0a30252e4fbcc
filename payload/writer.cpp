// create_payload(): compress the image's chunks into a temporary blob file in
// image order, then write header, manifest and blobs into the output (the manifest
// comes first but is only known once every chunk is), hashing the signed range as
// it is written, and finally sign that hash or leave room for signatures.
#include "payload/writer.hpp"

#include "payload/chunk_compressor.hpp"
#include "payload/format.hpp"
#include "payload/payload_io.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace sysext::payload {

namespace {

uint64_t image_size_or_throw(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        throw_errno(path);
    if (!S_ISREG(st.st_mode))
        throw_input(path + ": not a regular file");
    auto size = static_cast<uint64_t>(st.st_size);
    if (size == 0)
        throw_input(path + ": the image is empty");
    if (size % k_block_size != 0)
        throw_input(path + ": image size " + std::to_string(size) + " is not a multiple of " +
                    std::to_string(k_block_size) + " bytes, the payload block size (" +
                    std::to_string(size % k_block_size) + " bytes past the last full block)");
    return size;
}

void check_blob_offset(uint64_t end, const std::string& image) {
    // data_offset and data_length are uint32 in the format.
    if (end > UINT32_MAX)
        throw_input(image + ": the payload's data would pass 4 GiB, beyond the 32-bit data "
                            "offsets of the payload format");
}

} // namespace

std::vector<size_t> payload_signature_sizes(std::span<const signing::PrivateKey> keys) {
    std::vector<size_t> sizes;
    for (const auto& key : keys) {
        if (!EVP_PKEY_is_a(key.get(), "RSA"))
            throw_usage(key.description() +
                        ": payloads need an RSA key (Flatcar's update clients check "
                        "RSASSA-PKCS1-v1_5 signatures)");
        sizes.push_back(key.signature_size());
    }
    return sizes;
}

std::vector<size_t> rsa2048_signature_sizes(size_t count) {
    signature_version(0, count); // refuses 0 and more than the versions can number
    return std::vector<size_t>(count, k_rsa2048_signature_size);
}

CreateResult create_payload(const CreateOptions& options, Reporter& reporter) {
    // The signature plan is settled first: a bad key must fail before minutes of work.
    if (!options.keys.empty() && !options.reserved_signature_sizes.empty())
        throw_usage("give keys to sign with or signature sizes to reserve, not both");
    std::vector<size_t> sizes = options.keys.empty() ? options.reserved_signature_sizes
                                                     : payload_signature_sizes(options.keys);
    if (sizes.empty())
        throw_usage("a payload needs keys to sign it with, or signature sizes to reserve for "
                    "signing it elsewhere");
    const uint64_t signatures_size = signatures_blob_size(sizes);
    effective_jobs(options.jobs); // refuses an absurd thread count now, not after opening files

    Fd image = open_or_throw(options.image, O_RDONLY);
    CreateResult result;
    result.image_size = image_size_or_throw(image.get(), options.image);

    AtomicFile out(options.output);
    Fd blobs = unlinked_temp_file_near(options.output);
    pb::DeltaArchiveManifest manifest;
    manifest.set_block_size(k_block_size);
    Sha256 image_hasher;
    uint64_t blob_size = 0;

    reporter.stage("compressing " + options.image);
    auto add_chunk = [&](const Chunk& chunk) {
        image_hasher.update(chunk.input);
        check_blob_offset(blob_size + chunk.stored.size(), options.image);
        auto* op = manifest.add_partition_operations();
        op->set_type(chunk.compressed ? pb::InstallOperation::REPLACE_BZ
                                      : pb::InstallOperation::REPLACE);
        op->set_data_offset(static_cast<uint32_t>(blob_size));
        op->set_data_length(static_cast<uint32_t>(chunk.stored.size()));
        auto* extent = op->add_dst_extents();
        extent->set_start_block(chunk.offset / k_block_size);
        extent->set_num_blocks(chunk.input.size() / k_block_size);
        op->set_data_sha256_hash(chunk.stored_hash.data(), chunk.stored_hash.size());
        write_all(blobs.get(), chunk.stored.data(), chunk.stored.size(), options.output);
        blob_size += chunk.stored.size();
        result.compressed_operations += chunk.compressed ? 1 : 0;
    };
    compress_chunks(image.get(), options.image, result.image_size, k_chunk_size, options.jobs,
                    add_chunk, reporter, options.cache);
    result.operations = static_cast<size_t>(manifest.partition_operations_size());
    result.image_hash = image_hasher.finish();

    check_blob_offset(blob_size + signatures_size, options.image);
    set_signature_area(manifest, blob_size, signatures_size);
    auto* info = manifest.mutable_new_partition_info();
    info->set_size(result.image_size);
    info->set_hash(result.image_hash.data(), result.image_hash.size());

    reporter.stage("writing " + options.output);
    std::string manifest_bytes;
    if (!manifest.SerializeToString(&manifest_bytes))
        throw Error(ErrorKind::Internal, "cannot serialize the payload manifest");
    std::string header = encode_header(manifest_bytes.size());
    Sha256 signed_hasher;
    for (const std::string* part : {&header, &manifest_bytes}) {
        signed_hasher.update(*part);
        out.write(*part);
    }
    copy_range_hashed(blobs.get(), 0, blob_size, out.fd(), signed_hasher, options.output);
    result.signed_hash = signed_hasher.finish();
    result.payload_size = header.size() + manifest_bytes.size() + blob_size;

    if (!options.keys.empty()) {
        reporter.stage("signing");
        std::vector<std::string> signatures;
        for (const auto& key : options.keys)
            signatures.push_back(signing::sign_sha256_digest(key, result.signed_hash));
        std::string blob = encode_signatures(signatures);
        if (blob.size() != signatures_size)
            throw Error(ErrorKind::Internal, "the signatures' size differs from the space reserved");
        out.write(blob);
        result.payload_size += blob.size();
        result.signatures = signatures.size();
    }
    out.commit();
    if (!options.hash_file.empty())
        write_file_atomic(options.hash_file,
                          std::string(result.signed_hash.begin(), result.signed_hash.end()));
    return result;
}

} // namespace sysext::payload

// The payload's header, signature blob and dummy signature operation.
#include "payload/format.hpp"

#include "sysext/util/error.hpp"

namespace sysext::payload {

namespace {

void put_be64(std::string& out, uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((value >> shift) & 0xff));
}

} // namespace

std::string encode_header(uint64_t manifest_size) {
    std::string header(k_magic);
    put_be64(header, k_format_version);
    put_be64(header, manifest_size);
    return header;
}

uint32_t signature_version(size_t index, size_t count) {
    if (count == 0 || count > k_max_signatures || index >= count)
        throw_usage("a payload carries 1 to " + std::to_string(k_max_signatures) +
                    " signatures (their versions count up to " +
                    std::to_string(k_last_signature_version) + "), not " + std::to_string(count));
    return static_cast<uint32_t>(k_last_signature_version + 1 - count + index);
}

std::string encode_signatures(const std::vector<std::string>& signatures) {
    pb::Signatures message;
    for (size_t i = 0; i < signatures.size(); ++i) {
        auto* sig = message.add_signatures();
        sig->set_version(signature_version(i, signatures.size()));
        sig->set_data(signatures[i]);
    }
    std::string out;
    if (!message.SerializeToString(&out))
        throw Error(ErrorKind::Internal, "cannot serialize the payload signatures");
    return out;
}

uint64_t signatures_blob_size(const std::vector<size_t>& signature_sizes) {
    // Field sizes depend only on lengths and versions, so placeholders of the
    // right lengths serialize to exactly the size of the real signatures.
    std::vector<std::string> placeholders;
    for (size_t size : signature_sizes) {
        if (size == 0)
            throw_usage("a reserved signature size must be at least 1 byte");
        placeholders.emplace_back(size, '\0');
    }
    return encode_signatures(placeholders).size();
}

void set_signature_area(pb::DeltaArchiveManifest& manifest, uint64_t offset, uint64_t size) {
    manifest.set_signatures_offset(offset);
    manifest.set_signatures_size(size);
    manifest.clear_noop_operations();
    auto* op = manifest.add_noop_operations();
    op->set_type(pb::InstallOperation::REPLACE);
    // data_offset is 32-bit in the format; callers check the blob area fits.
    op->set_data_offset(static_cast<uint32_t>(offset));
    op->set_data_length(static_cast<uint32_t>(size));
    auto* extent = op->add_dst_extents();
    extent->set_start_block(k_sparse_hole);
    extent->set_num_blocks((size + manifest.block_size() - 1) / manifest.block_size());
}

std::string operation_type_name(int type) {
    if (pb::InstallOperation::Type_IsValid(type))
        return pb::InstallOperation::Type_Name(static_cast<pb::InstallOperation::Type>(type));
    return "type " + std::to_string(type);
}

} // namespace sysext::payload

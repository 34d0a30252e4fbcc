#include "payload/describe.hpp"

#include "payload/payload_io.hpp"
#include "payload/reader.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"

#include <cstdarg>
#include <fcntl.h>
#include <cstdio>

namespace sysext::payload {

namespace {

using nlohmann::json;

std::string hex(const std::string& bytes) { return to_hex(bytes.data(), bytes.size()); }

json describe_extents(const google::protobuf::RepeatedPtrField<pb::Extent>& extents) {
    json out = json::array();
    for (const auto& e : extents)
        out.push_back({{"start_block", e.start_block()}, {"num_blocks", e.num_blocks()}});
    return out;
}

json describe_operation(const pb::InstallOperation& op) {
    json out = {{"type", operation_type_name(op.type())},
                {"data_offset", op.data_offset()},
                {"data_length", op.data_length()},
                {"dst_extents", describe_extents(op.dst_extents())},
                {"data_sha256", hex(op.data_sha256_hash())}};
    if (op.src_extents_size() > 0)
        out["src_extents"] = describe_extents(op.src_extents());
    return out;
}

json describe_info(const pb::InstallInfo& info) {
    return {{"size", info.size()}, {"sha256", hex(info.hash())}};
}

json describe_signatures(const PayloadFile& file) {
    const auto& m = file.manifest();
    if (!file.has_signature_area())
        return {{"state", "none"}};
    json out = {{"offset", m.signatures_offset()}, {"size", m.signatures_size()}};
    try {
        out["signed_range"] = {{"size", file.signed_size()},
                               {"sha256", to_hex(hash_prefix(file.fd(), file.signed_size(),
                                                             file.path()))}};
        if (file.is_unsigned()) {
            out["state"] = "unsigned";
            return out;
        }
        pb::Signatures sigs;
        if (!sigs.ParseFromString(file.read_signature_blob()))
            throw_verify("the signature blob is not a valid Signatures protobuf");
        out["state"] = "signed";
        out["list"] = json::array();
        for (const auto& s : sigs.signatures())
            out["list"].push_back({{"version", s.version()}, {"size", s.data().size()}});
    } catch (const Error& e) {
        // Inspecting a damaged payload should still show the rest of it.
        out["state"] = "unreadable";
        out["error"] = e.what();
    }
    return out;
}

__attribute__((format(printf, 1, 2))) std::string fmt(const char* format, ...) {
    char buf[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(buf, sizeof buf, format, args);
    va_end(args);
    return buf;
}

} // namespace

PayloadDescription describe(const std::string& path) {
    PayloadFile file = PayloadFile::open(path);
    const auto& m = file.manifest();
    json ops = json::array();
    uint64_t data_size = 0;
    size_t compressed = 0;
    for (const auto& op : m.partition_operations()) {
        ops.push_back(describe_operation(op));
        data_size += op.data_length();
        compressed += op.type() == pb::InstallOperation::REPLACE_BZ ? 1 : 0;
    }
    json noops = json::array();
    for (const auto& op : m.noop_operations())
        noops.push_back(describe_operation(op));

    json data = {{"type", "flatcar-update-payload"},
                 {"path", path},
                 {"file_size", file.file_size()},
                 {"format_version", file.format_version()},
                 {"manifest_size", file.manifest_size()},
                 {"block_size", m.block_size()},
                 {"operations",
                  {{"count", ops.size()},
                   {"replace_bz", compressed},
                   {"replace", ops.size() - compressed},
                   {"data_size", data_size},
                   {"list", ops}}},
                 {"noop_operations", noops},
                 {"procedures", m.procedures_size()},
                 {"signatures", describe_signatures(file)}};
    if (m.has_new_partition_info())
        data["new_partition_info"] = describe_info(m.new_partition_info());
    if (m.has_old_partition_info())
        data["old_partition_info"] = describe_info(m.old_partition_info());
    return PayloadDescription{std::move(data)};
}

bool looks_like_payload(const std::string& path) {
    Fd fd = open_or_throw(path, O_RDONLY);
    char magic[4] = {};
    return pread_full(fd.get(), magic, sizeof magic, 0, path) == sizeof magic &&
           std::string_view(magic, sizeof magic) == k_magic;
}

std::string PayloadDescription::to_text(bool all_operations) const {
    const json& d = data;
    std::string out = "Flatcar update payload " + d["path"].get<std::string>() + "\n";
    out += fmt("  file:       %s, format version %llu, manifest %llu bytes, block size %llu\n",
               format_size(d["file_size"].get<uint64_t>()).c_str(),
               static_cast<unsigned long long>(d["format_version"].get<uint64_t>()),
               static_cast<unsigned long long>(d["manifest_size"].get<uint64_t>()),
               static_cast<unsigned long long>(d["block_size"].get<uint64_t>()));
    if (d.contains("new_partition_info")) {
        const json& info = d["new_partition_info"];
        out += "  image:      " + std::to_string(info["size"].get<uint64_t>()) + " bytes, sha256 " +
               info["sha256"].get<std::string>() + "\n";
    }
    const json& ops = d["operations"];
    uint64_t image = d.contains("new_partition_info") ? d["new_partition_info"]["size"].get<uint64_t>() : 0;
    uint64_t stored = ops["data_size"].get<uint64_t>();
    out += fmt("  operations: %zu (%zu REPLACE_BZ, %zu REPLACE), %s of data", ops["count"].get<size_t>(),
               ops["replace_bz"].get<size_t>(), ops["replace"].get<size_t>(),
               format_size(stored).c_str());
    out += image > 0 ? fmt(" (%.1f%% of the image)\n", 100.0 * static_cast<double>(stored) /
                                                         static_cast<double>(image))
                     : "\n";
    const json& sigs = d["signatures"];
    std::string state = sigs["state"].get<std::string>();
    if (state == "none") {
        out += "  signatures: none (no signature area)\n";
    } else {
        out += fmt("  signatures: %s, %llu bytes at data offset %llu", state.c_str(),
                   static_cast<unsigned long long>(sigs["size"].get<uint64_t>()),
                   static_cast<unsigned long long>(sigs["offset"].get<uint64_t>()));
        if (sigs.contains("list")) {
            std::string list;
            for (const auto& s : sigs["list"])
                list += (list.empty() ? "" : ", ") +
                        fmt("version %u: %zu bytes", s["version"].get<unsigned>(),
                            s["size"].get<size_t>());
            out += " (" + list + ")";
        }
        out += "\n";
        if (sigs.contains("error"))
            out += "              " + sigs["error"].get<std::string>() + "\n";
        if (sigs.contains("signed_range"))
            out += "  signed:     " + std::to_string(sigs["signed_range"]["size"].get<uint64_t>()) +
                   " bytes, sha256 " + sigs["signed_range"]["sha256"].get<std::string>() + "\n";
    }
    if (all_operations) {
        out += "  #      type        data offset  data length  start block  blocks  data sha256\n";
        size_t i = 0;
        for (const auto& op : ops["list"]) {
            const json& ext = op["dst_extents"];
            std::string start = ext.size() == 1 ? std::to_string(ext[0]["start_block"].get<uint64_t>()) : "-";
            std::string blocks = ext.size() == 1 ? std::to_string(ext[0]["num_blocks"].get<uint64_t>()) : "-";
            out += fmt("  %-6zu %-11s %11llu  %11llu  %11s  %6s  %s\n", i++,
                       op["type"].get<std::string>().c_str(),
                       static_cast<unsigned long long>(op["data_offset"].get<uint64_t>()),
                       static_cast<unsigned long long>(op["data_length"].get<uint64_t>()),
                       start.c_str(), blocks.c_str(), op["data_sha256"].get<std::string>().c_str());
        }
    }
    return out;
}

} // namespace sysext::payload

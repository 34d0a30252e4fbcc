// inspect's two renderings of an Inspection: one JSON object for machines,
// a short readable summary for people. Neither holds times or host facts.
#include "sysext/inspect/contents.hpp"
#include "sysext/inspect/inspect.hpp"

#include "sysext/util/strings.hpp"

namespace sysext::inspect {

namespace {

const ReleaseFile* chosen_release(const Inspection& r) {
    for (const auto& f : r.releases)
        if (f.matches_image)
            return &f;
    return r.releases.empty() ? nullptr : &r.releases.front();
}

std::vector<std::string> top_level(const Inspection& r) {
    std::vector<std::string> out;
    for (const auto& e : r.listing.entries)
        if (!e.path.empty() && e.path.find('/') == std::string::npos)
            out.push_back(e.path + (e.type == 'd' ? "/" : ""));
    return out;
}

nlohmann::json contents_summary(const Inspection& r, size_t largest) {
    const auto& s = r.listing.summary;
    ContentsTotals t = contents_totals(r.listing.entries);
    nlohmann::json top = nlohmann::json::array();
    for (const auto& e : largest_files(r.listing.entries, largest))
        top.push_back({{"path", e.path}, {"size", e.size}});
    return {{"format", s.format},            {"compressor", s.compressor},
            {"block_size", s.block_size},    {"bytes_used", s.bytes_used},
            {"inodes", s.inode_count},       {"fragments", s.fragment_count},
            {"entries", t.entries},          {"directories", t.directories},
            {"files", t.files},              {"symlinks", t.symlinks},
            {"other", t.other},              {"file_bytes", t.file_bytes},
            {"top_level", top_level(r)},     {"largest_files", top},
            {"offset", r.image_offset}};
}

void line(std::string& out, const std::string& text) {
    out += text + "\n";
}

// "1 entry", "3 entries"
std::string count(uint64_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Block sizes are powers of two: "128 KiB" reads better than "131.1 kB".
std::string block_size(uint32_t bytes) {
    if (bytes >= 1024 && bytes % 1024 == 0)
        return std::to_string(bytes / 1024) + " KiB";
    return std::to_string(bytes) + " bytes";
}

// Absent values are null in JSON, never "".
nlohmann::json or_null(const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

} // namespace

nlohmann::json to_json(const Inspection& r, size_t largest) {
    nlohmann::json j = {{"path", r.path},
                        {"kind", r.kind},
                        {"ok", r.ok()},
                        {"problems", r.problems},
                        {"notes", r.notes}};
    if (r.kind == "payload") {
        j["payload"] = r.payload;
        return j;
    }
    j["image_name"] = r.image_name;
    const ReleaseFile* release = chosen_release(r);
    j["release"] = release ? nlohmann::json(release->fields) : nlohmann::json(nullptr);
    j["release_file"] = release ? nlohmann::json(release->name) : nlohmann::json(nullptr);
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : r.releases)
        files.push_back(
            {{"name", f.name}, {"matches_image", f.matches_image}, {"fields", f.fields}});
    j["release_files"] = files;
    j["contents"] = r.contents_read ? contents_summary(r, largest) : nlohmann::json(nullptr);
    j["verity"] = {{"status", r.verity.status},
                   {"root_hash", or_null(r.verity.root_hash)},
                   {"detail", or_null(r.verity.detail)}};
    j["signature"] = {{"status", r.signature.status},
                      {"subject", or_null(r.signature.subject)},
                      {"fingerprint", or_null(r.signature.fingerprint)},
                      {"detail", or_null(r.signature.detail)}};
    if (r.overlays_checked)
        j["host_overlays"] = r.host_overlays;
    if (r.host_checked)
        j["host"] = {{"architecture", r.host_arch},
                     {"accepted", r.host.accepted},
                     {"reason", r.host.reason}};
    if (r.kind == "disk-image") {
        nlohmann::json parts = nlohmann::json::array();
        for (const auto& p : r.partitions)
            parts.push_back({{"name", p.name},
                             {"type", p.type},
                             {"uuid", p.uuid},
                             {"offset", p.offset},
                             {"size", p.size}});
        j["partitions"] = parts;
    }
    return j;
}

std::string to_text(const Inspection& r, size_t largest) {
    std::string out;
    if (r.kind == "payload") {
        out += r.payload_text;
        if (!out.empty() && out.back() != '\n')
            out += '\n';
        const auto& v = r.payload.value("verification", nlohmann::json::object());
        line(out, "verification: " + v.value("status", std::string("not checked")) +
                      (v.contains("detail") ? " (" + v["detail"].get<std::string>() + ")" : ""));
    } else {
        line(out, r.path + ": " +
                      (r.kind == "squashfs" ? "squashfs image"
                       : r.kind == "erofs"  ? "EROFS image"
                                            : "GPT disk image"));
        for (const auto& p : r.partitions)
            line(out, "  partition " + p.type + " \"" + p.name + "\" " + format_size(p.size) +
                          " at " + std::to_string(p.offset) + ", uuid " + p.uuid);
        if (r.contents_read) {
            const auto& s = r.listing.summary;
            ContentsTotals t = contents_totals(r.listing.entries);
            line(out, "  " + s.format + ": " + format_size(s.bytes_used) + ", " + s.compressor +
                          ", " + block_size(s.block_size) + " blocks" +
                          (r.image_offset ? ", at offset " + std::to_string(r.image_offset) : ""));
            line(out, "  contents: " + count(t.entries, "entry", "entries") + " (" +
                          count(t.directories, "directory", "directories") + ", " +
                          count(t.files, "file", "files") + ", " +
                          count(t.symlinks, "symlink", "symlinks") + ", " +
                          std::to_string(t.other) + " other), " + format_size(t.file_bytes) +
                          " in files");
            std::string top;
            for (const auto& name : top_level(r))
                top += " " + printable(name);
            line(out, "  top level:" + (top.empty() ? std::string(" (empty)") : top));
            for (const auto& f : r.releases) {
                line(out, "  release: " + printable(f.name) +
                              (f.matches_image ? "" : " (does not match the image name)"));
                for (const auto& [key, value] : f.fields)
                    line(out, "    " + printable(key) + "=" + printable(value));
            }
            auto big = largest_files(r.listing.entries, largest);
            if (!big.empty())
                line(out, "  largest files:");
            for (const auto& e : big)
                line(out, "    " + format_size(e.size) + "  " + printable(e.path));
        }
        if (r.host_checked)
            line(out, std::string("  host: ") + (r.host.accepted ? "merges it: " : "ignores it: ") +
                          r.host.reason);
        line(out, "  verity: " + r.verity.status +
                      (r.verity.root_hash.empty() ? "" : ", root hash " + r.verity.root_hash) +
                      (r.verity.detail.empty() ? "" : " (" + r.verity.detail + ")"));
        std::string who = r.signature.subject.empty()
                              ? ""
                              : ", " + r.signature.subject + " sha256 " + r.signature.fingerprint;
        line(out, "  signature: " + r.signature.status + who +
                      (r.signature.detail.empty() ? "" : " (" + r.signature.detail + ")"));
    }
    for (const auto& n : r.notes)
        line(out, "note: " + n);
    for (const auto& p : r.problems)
        line(out, "problem: " + p);
    line(out, r.ok() ? "ok" : "NOT OK: " + std::to_string(r.problems.size()) + " problem(s)");
    return out;
}

} // namespace sysext::inspect

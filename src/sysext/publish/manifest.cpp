#include "sysext/publish/manifest.hpp"

#include "sysext/release/release.hpp"
#include "sysext/version.hpp"

#include <algorithm>

namespace sysext::publish {

using nlohmann::json;

namespace {

std::string base_name(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

json optional(const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
}

} // namespace

json manifest(const ManifestInputs& in) {
    const PublishRequest& r = in.request;
    json inputs = json::array();
    // The profile is an input too; by file name, so the manifest does not
    // depend on where the tree was checked out.
    if (!r.profile.empty())
        inputs.push_back({{"kind", "profile"},
                          {"name", base_name(r.profile)},
                          {"source", base_name(r.profile)},
                          {"version", nullptr},
                          {"sha256", in.profile_sha256}});
    for (const auto& e : in.locked)
        inputs.push_back({{"kind", e.kind},
                          {"name", e.name},
                          {"version", optional(e.version)},
                          {"architecture", optional(e.architecture)},
                          {"source", e.url},
                          {"filename", optional(e.filename)},
                          {"size", e.size},
                          {"sha256", e.sha256}});
    json outputs = json::array();
    for (const auto& f : in.outputs)
        outputs.push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
    json signature = nullptr;
    if (!r.root_hash.empty())
        signature = {{"format", r.ddi ? "ddi" : "sidecars"},
                     {"root_hash", r.root_hash},
                     {"certificate_fingerprint", optional(r.certificate_fingerprint)}};
    json j = {{"sysext-build-manifest", 1},
              {"tool", std::string("sysext-build ") + k_version},
              {"name", r.name},
              {"version", r.version},
              {"architecture", r.architecture},
              {"target", r.target},
              {"image", in.image_file},
              {"base_url", optional(r.base_url)},
              {"profile", r.profile.empty() ? json(nullptr)
                                            : json{{"name", base_name(r.profile)},
                                                   {"sha256", in.profile_sha256}}},
              {"extension_release", release::parse(r.release_text, "extension-release")},
              {"components", r.components},
              {"inputs", inputs},
              {"outputs", outputs},
              {"deployment", in.deployment},
              {"signature", signature}};
    return j;
}

std::string sha256sums(const std::vector<PublishedFile>& files) {
    std::vector<PublishedFile> sorted = files;
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    std::string out;
    for (const auto& f : sorted)
        out += f.sha256 + "  " + f.name + "\n";
    return out;
}

} // namespace sysext::publish

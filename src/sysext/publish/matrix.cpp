#include "sysext/publish/matrix.hpp"

#include "sysext/profile/profile.hpp"
#include "sysext/release/release.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

namespace sysext::publish {

namespace fs = std::filesystem;

namespace {

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words)
        out += (out.empty() ? "" : ", ") + w;
    return out;
}

// Every NAME.json in the directories, the first of each name winning (as
// profile::find would choose).
std::vector<std::pair<std::string, std::string>>
all_profiles(const std::vector<std::string>& dirs) {
    std::map<std::string, std::string> found; // name -> path
    for (const auto& dir : dirs) {
        std::error_code ec;
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (e.is_regular_file() && e.path().extension() == ".json")
                names.push_back(e.path().stem().string());
        std::sort(names.begin(), names.end());
        for (const auto& n : names)
            found.emplace(n, dir + "/" + n + ".json");
    }
    return {found.begin(), found.end()};
}

void add_profile(const std::string& label, const std::string& path, bool named,
                 const MatrixOptions& o, std::set<MatrixEntry>& out) {
    const profile::Profile p = profile::load(path);
    std::vector<std::string> versions = p.release_versions;
    if (versions.empty()) {
        if (!named)
            return; // not released unless asked for
        versions.push_back("latest");
    }
    std::vector<std::string> targets = o.targets;
    if (targets.empty())
        targets = p.release_targets.empty() ? std::vector<std::string>{p.default_target}
                                            : p.release_targets;
    std::vector<std::string> archs =
        p.architectures.empty() ? std::vector<std::string>{"x86-64"} : p.architectures;
    for (const auto& t : targets) {
        auto it = p.targets.find(t);
        if (it == p.targets.end()) {
            std::vector<std::string> names;
            for (const auto& [n, spec] : p.targets)
                names.push_back(n);
            throw_usage("--target: " + quote(t) + " is not a target of " + path + " (" +
                        joined(names) + ")");
        }
        if (!it->second.requires_vars.empty())
            throw_input(path + ": target " + quote(t) + " needs --set " +
                        joined(it->second.requires_vars) +
                        ", which an unattended build cannot give");
        for (const auto& a : archs) {
            if (!o.architectures.empty() &&
                std::find(o.architectures.begin(), o.architectures.end(), a) ==
                    o.architectures.end())
                continue;
            for (const auto& v : versions)
                out.insert({label, v, a, t});
        }
    }
}

} // namespace

bool MatrixEntry::operator<(const MatrixEntry& o) const {
    return std::tie(profile, version, architecture, target) <
           std::tie(o.profile, o.version, o.architecture, o.target);
}

std::vector<MatrixEntry> matrix(const MatrixOptions& o) {
    for (const auto& a : o.architectures)
        if (!release::known_architecture(a) || a == "_any")
            throw_usage("--arch: unknown architecture " + quote(a) +
                        " (systemd's names: x86-64, arm64, ...)");
    std::set<MatrixEntry> entries;
    if (o.profiles.empty()) {
        for (const auto& [name, path] : all_profiles(o.profile_dirs))
            add_profile(name, path, false, o, entries);
    } else {
        for (const auto& name : o.profiles)
            add_profile(name, profile::find(name, o.profile_dirs), true, o, entries);
    }
    if (entries.empty())
        throw_input("no builds: " + std::string(o.profiles.empty()
                                                    ? "no profile lists \"release_versions\""
                                                    : "the profiles have no architecture in " +
                                                          joined(o.architectures)));
    return {entries.begin(), entries.end()};
}

nlohmann::json matrix_json(const std::vector<MatrixEntry>& entries) {
    nlohmann::json include = nlohmann::json::array();
    for (const auto& e : entries)
        include.push_back({{"profile", e.profile},
                           {"version", e.version},
                           {"architecture", e.architecture},
                           {"target", e.target}});
    return {{"include", include}};
}

} // namespace sysext::publish

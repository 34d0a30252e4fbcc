#include "sysext/inspect/components.hpp"

#include <algorithm>
#include <tuple>

namespace sysext::inspect {

namespace {

std::vector<pipeline::BuiltInput> sorted(std::vector<pipeline::BuiltInput> packages) {
    std::sort(packages.begin(), packages.end(), [](const auto& a, const auto& b) {
        return std::tie(a.name, a.version, a.sha256) < std::tie(b.name, b.version, b.sha256);
    });
    return packages;
}

} // namespace

std::string components_listing(const std::map<std::string, std::string>& components,
                               const std::vector<pipeline::BuiltInput>& packages) {
    std::string out;
    for (const auto& [name, version] : components)
        out += "component\t" + name + "\t" + (version.empty() ? "-" : version) + "\n";
    for (const auto& p : sorted(packages))
        out += "package\t" + p.name + "\t" + p.version + "\t" + p.sha256 + "\n";
    return out;
}

nlohmann::json components_json(const std::map<std::string, std::string>& components,
                               const std::vector<pipeline::BuiltInput>& packages) {
    nlohmann::json c = nlohmann::json::object();
    for (const auto& [name, version] : components)
        c[name] = version.empty() ? nlohmann::json(nullptr) : nlohmann::json(version);
    nlohmann::json p = nlohmann::json::array();
    for (const auto& pkg : sorted(packages))
        p.push_back({{"name", pkg.name}, {"version", pkg.version}, {"sha256", pkg.sha256}});
    return {{"components", c}, {"packages", p}};
}

} // namespace sysext::inspect

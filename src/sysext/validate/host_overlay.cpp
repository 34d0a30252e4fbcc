#include "sysext/validate/host_overlay.hpp"

#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>

namespace sysext::validate {

namespace {

// Base lists are a few megabytes at most; a bigger file is not one.
constexpr uint64_t k_max_listing = 64ull << 20;

bool is_library(const std::string& path) {
    const std::string name = path.substr(path.rfind('/') + 1);
    return ends_with(name, ".so") || name.find(".so.") != std::string::npos ||
           starts_with(name, "ld-linux");
}

} // namespace

std::set<std::string> read_host_listing(const std::string& path) {
    std::set<std::string> host;
    for (const auto& line : split(read_file(path, k_max_listing), '\n'))
        if (!line.empty() && line[0] == '/')
            host.insert(line.substr(1));
    return host;
}

HostOverlay host_overlay(const std::vector<std::string>& image_paths,
                         const std::set<std::string>& host) {
    HostOverlay o;
    for (const auto& p : image_paths)
        if (host.count(p)) {
            o.files.push_back(p);
            o.libraries += is_library(p);
        }
    std::sort(o.files.begin(), o.files.end());
    return o;
}

std::string describe(const HostOverlay& overlay, const std::string& listing, size_t shown) {
    if (overlay.files.empty())
        return "";
    std::string text = "replaces " + std::to_string(overlay.files.size()) + " file" +
                       (overlay.files.size() == 1 ? "" : "s") + " of the host listed in " +
                       listing + " (" + std::to_string(overlay.libraries) + " librar" +
                       (overlay.libraries == 1 ? "y" : "ies") +
                       ") for every program while merged:";
    for (size_t i = 0; i < overlay.files.size() && i < shown; ++i)
        text += " " + overlay.files[i];
    if (overlay.files.size() > shown)
        text += " and " + std::to_string(overlay.files.size() - shown) + " more";
    return text;
}

} // namespace sysext::validate

// The builds a release pipeline runs: for each profile, each of its
// release_versions, architectures and release targets, one entry. Printed as
// {"include": [{"profile", "version", "architecture", "target"}, ...]}, the
// shape GitHub Actions' `strategy.matrix` takes through fromJSON().
//
// A profile without release_versions takes part only when named (then with
// version "latest"); a target whose build needs --set variables (a Flatcar SDK
// root) cannot run unattended and is refused when asked for.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sysext::publish {

struct MatrixEntry {
    std::string profile, version, architecture, target;
    bool operator<(const MatrixEntry& o) const;
};

struct MatrixOptions {
    // Profiles by name or path; empty = every profile found in profile_dirs.
    std::vector<std::string> profiles;
    std::vector<std::string> profile_dirs;
    std::vector<std::string> architectures; // filter; empty = each profile's own
    std::vector<std::string> targets;       // instead of the profiles' release targets
};

// Sorted by profile, version, architecture, target; no duplicates.
std::vector<MatrixEntry> matrix(const MatrixOptions& options);
nlohmann::json matrix_json(const std::vector<MatrixEntry>& entries);

} // namespace sysext::publish

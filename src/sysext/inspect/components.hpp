// The components and package versions of a build, as release reports show
// them next to the contents listing: stable text and JSON, sorted by name.
#pragma once

#include "sysext/pipeline/build.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace sysext::inspect {

// "component\tNAME\tVERSION" lines (VERSION "-" when unknown), then
// "package\tNAME\tVERSION\tSHA256" lines, each group sorted by name.
std::string components_listing(const std::map<std::string, std::string>& components,
                               const std::vector<pipeline::BuiltInput>& packages);

// {"components": {NAME: VERSION or null}, "packages": [{"name", "version", "sha256"}]}
nlohmann::json components_json(const std::map<std::string, std::string>& components,
                               const std::vector<pipeline::BuiltInput>& packages);

} // namespace sysext::inspect

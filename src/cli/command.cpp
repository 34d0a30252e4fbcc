#include "cli/command.hpp"

#include <algorithm>
#include <vector>

namespace sysext::cli {

namespace {
std::vector<std::pair<int, CommandSetup>>& registry() {
    static std::vector<std::pair<int, CommandSetup>> r;
    return r;
}
} // namespace

CommandRegistration::CommandRegistration(int order, CommandSetup setup) {
    registry().emplace_back(order, std::move(setup));
}

void setup_commands(CLI::App& app, const GlobalOptions& global) {
    auto& r = registry();
    std::stable_sort(r.begin(), r.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [order, setup] : r)
        setup(app, global);
}

} // namespace sysext::cli

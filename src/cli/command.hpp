// Subcommands register themselves here, so that adding one touches no other file.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace sysext::cli {

struct GlobalOptions {
    bool quiet = false;
    bool json = false;
    bool verbose = false;
};

// A subcommand adds itself to the app and returns the action to run when chosen.
using CommandSetup = std::function<void(CLI::App& app, const GlobalOptions& global)>;

struct CommandRegistration {
    CommandRegistration(int order, CommandSetup setup);
};

void setup_commands(CLI::App& app, const GlobalOptions& global);

} // namespace sysext::cli

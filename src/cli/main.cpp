// sysext-build: parse the command line, run one subcommand, map errors to exit codes.
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "cli/terminal_reporter.hpp"
#include "sysext/profile/profile.hpp"
#include "sysext/util/strings.hpp"
#include "sysext/util/cleanup.hpp"
#include "sysext/util/error.hpp"
#include "sysext/version.hpp"

#include <algorithm>
#include <clocale>
#include <cstdio>
#include <string>
#include <vector>
#include <exception>
#include <filesystem>
#include <new>

int main(int argc, char** argv) {
    // SIGINT, SIGTERM and SIGHUP remove this run's temporary files and exit
    // 128 + the signal (before any thread exists, so that all inherit the mask).
    sysext::cleanup::install_interrupt_handler();
    // Archive names are UTF-8 (pax) or raw bytes; a UTF-8 character type lets
    // libarchive hand them over unchanged whatever the caller's locale.
    if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr)
        std::setlocale(LC_CTYPE, "");
    sysext::cli::GlobalOptions global;
    CLI::App app{"sysext-build: build, sign and publish systemd system extensions", "sysext-build"};
    app.set_version_flag("--version", std::string("sysext-build ") + sysext::k_version);
    app.require_subcommand(1);
    app.fallthrough();
    app.add_flag("-q,--quiet", global.quiet, "Print nothing but errors (no progress, no warnings)")
        ->each([](const std::string&) { sysext::cli::TerminalReporter::errors_only(true); });
    app.add_flag("--json", global.json, "Print machine-readable results as JSON on stdout");
    app.add_flag("-v,--verbose", global.verbose, "Print more detail");
    app.footer("Results go to stdout (JSON with --json); progress and warnings to stderr, a live line\n"
               "on a terminal, plain lines otherwise, only errors with --quiet.\n\n"
               "Exit codes:\n"
               "  0  success\n"
               "  1  unexpected failure\n"
               "  2  usage: bad flags or arguments\n"
               "  3  bad input: source, profile, tree content, a release that exists with other bytes\n"
               "  4  a verification failed (image, payload, signature)\n"
               "  5  the system refused a read or write");
    sysext::cli::setup_commands(app, global);
    // `sysext-build podman ...` is short for `sysext-build build podman ...`;
    // `sysext-build help [COMMAND]` is `sysext-build [COMMAND] --help`; a word
    // that is neither a command nor a profile but close to a command is a typo.
    std::vector<std::string> args(argv + 1, argv + argc);
    std::vector<std::string> commands;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
        commands.push_back(sub->get_name());
    for (size_t i = 0; i < args.size(); ++i) {
        if (!args[i].empty() && args[i][0] == '-')
            continue;
        if (args[i] == "help") {
            args.erase(args.begin() + static_cast<long>(i));
            args.insert(i < args.size() ? args.begin() + static_cast<long>(i) + 1 : args.end(),
                        "--help");
            break;
        }
        if (std::find(commands.begin(), commands.end(), args[i]) != commands.end())
            break;
        bool profile = false;
        try {
            sysext::profile::find(args[i], sysext::cli::profile_dirs());
            profile = true;
        } catch (const sysext::Error&) {
        }
        if (!profile) {
            if (std::string near = sysext::nearest(args[i], commands); !near.empty()) {
                std::fprintf(stderr,
                             "sysext-build: error: unknown command \"%s\" (did you mean \"%s\"?); "
                             "see sysext-build help\n",
                             args[i].c_str(), near.c_str());
                return static_cast<int>(sysext::ErrorKind::Usage);
            }
        }
        args.insert(args.begin() + static_cast<long>(i), "build");
        break;
    }
    std::reverse(args.begin(), args.end()); // CLI11 takes them last first
    try {
        app.parse(args);
    } catch (const CLI::ParseError& e) {
        // --help and --version exit 0; every other parse error is a usage error (2).
        if (e.get_exit_code() == 0)
            return app.exit(e);
        // A mistyped flag: name the nearest flag of the command that was meant.
        std::string hint;
        const CLI::App* cmd = &app;
        for (const CLI::App* sub : app.get_subcommands())
            cmd = sub;
        std::vector<std::string> flags;
        for (const CLI::Option* opt : cmd->get_options())
            for (const auto& name : opt->get_lnames())
                flags.push_back("--" + name);
        for (const CLI::Option* opt : app.get_options())
            for (const auto& name : opt->get_lnames())
                flags.push_back("--" + name);
        for (const auto& word : args)
            if (word.rfind("--", 0) == 0 && hint.empty() &&
                std::find(flags.begin(), flags.end(), word.substr(0, word.find('='))) == flags.end())
                if (std::string near = sysext::nearest(word.substr(0, word.find('=')), flags);
                    !near.empty())
                    hint = " (did you mean " + near + "?)";
        std::fprintf(stderr, "sysext-build: error: %s%s (see sysext-build help %s)\n", e.what(),
                     hint.c_str(), cmd == &app ? "" : cmd->get_name().c_str());
        return static_cast<int>(sysext::ErrorKind::Usage);
    } catch (const sysext::MultiError& e) {
        for (const auto& problem : e.problems())
            std::fprintf(stderr, "sysext-build: error: %s\n", problem.c_str());
        return e.exit_code();
    } catch (const sysext::Error& e) {
        std::fprintf(stderr, "sysext-build: error: %s\n", e.what());
        return e.exit_code();
    } catch (const std::filesystem::filesystem_error& e) {
        // The system refused a file operation: exit 5 like every other refusal,
        // said as "PATH: REASON" rather than the library's wording.
        std::string where = e.path1().empty() ? "" : e.path1().string() + ": ";
        std::fprintf(stderr, "sysext-build: error: %s%s\n", where.c_str(),
                     e.code().message().c_str());
        return static_cast<int>(sysext::ErrorKind::Io);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "sysext-build: error: out of memory\n");
        return static_cast<int>(sysext::ErrorKind::Io);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sysext-build: error: %s\n", e.what());
        return 1;
    }
    return 0;
}

// sysext-build: parse the command line, run one subcommand, map errors to exit codes.
#include "cli/command.hpp"
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
    app.add_flag("-q,--quiet", global.quiet, "Print nothing but errors");
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
    // `sysext-build podman ...` is short for `sysext-build build podman ...`.
    std::vector<std::string> args(argv + 1, argv + argc);
    for (size_t i = 0; i < args.size(); ++i) {
        if (!args[i].empty() && args[i][0] == '-')
            continue;
        auto named = app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == args[i]; });
        if (named.empty())
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
        std::fprintf(stderr, "sysext-build: error: %s (see --help)\n", e.what());
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

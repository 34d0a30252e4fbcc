// sysext-build index DIR RELEASE... [--published SHA256SUMS] [--gpg-key KEY]:
// release directories added to a served index with one SHA256SUMS
// (publish/index.hpp).
#include "cli/command.hpp"
#include "cli/terminal_reporter.hpp"
#include "sysext/publish/index.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace sysext::cli {

namespace {

void run_index(const publish::IndexOptions& o, const GlobalOptions& global) {
    TerminalReporter reporter(global.quiet || global.json);
    auto r = publish::add_to_index(o, reporter);
    if (!o.gpg.enabled() && !r.is_signed)
        reporter.warn("no --gpg-key: " + r.path +
                      "/SHA256SUMS is not signed; hosts need Verify=no in their transfers");
    reporter.finish();
    if (global.json) {
        std::cout << nlohmann::json{{"index", r.path},
                                    {"releases", r.releases},
                                    {"added", r.added},
                                    {"entries", r.entries},
                                    {"changed", r.changed},
                                    {"signed", r.is_signed}}
                         .dump(2)
                  << "\n";
    } else if (!global.quiet) {
        std::cout << "index " << r.path << ": " << r.releases
                  << (r.releases == 1 ? " release, " : " releases, ")
                  << (r.added.empty() ? std::string("nothing new")
                                      : std::to_string(r.added.size()) + " files added")
                  << ", " << r.entries << " files in SHA256SUMS"
                  << (r.is_signed ? " (signed)" : "")
                  << (r.changed ? "" : ", unchanged") << "\n";
    }
}

const CommandRegistration registration{
    8, [](CLI::App& app, const GlobalOptions& global) {
        auto o = std::make_shared<publish::IndexOptions>();
        CLI::App* cmd = app.add_subcommand(
            "index", "Add releases to a served index: one directory, every version and "
                     "architecture, one SHA256SUMS (signed with --gpg-key)");
        cmd->add_option("INDEX", o->index,
                        "The directory systemd-sysupdate's Path= points at (created if missing)")
            ->required();
        cmd->add_option("RELEASE", o->releases,
                        "Release directories (build --release-dir, publish), or directories "
                        "holding TARGET/NAME-VERSION-ARCH/ ones")
            ->required();
        cmd->add_option("--published", o->published,
                        "The SHA256SUMS already served where the index is uploaded: its entries "
                        "are kept, and a name it lists with other bytes is refused");
        cmd->add_option("--gpg-key", o->gpg.key,
                        "Sign SHA256SUMS (SHA256SUMS.gpg) with this GnuPG key (id, fingerprint or "
                        "user id; gpg and gpg-agent, smartcards included)");
        cmd->add_option("--gpg-homedir", o->gpg.homedir,
                        "GnuPG home directory of --gpg-key (default: GNUPGHOME or ~/.gnupg)")
            ->needs("--gpg-key");
        cmd->callback([o, &global] { run_index(*o, global); });
    }};

} // namespace
} // namespace sysext::cli

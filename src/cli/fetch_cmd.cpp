// `sysext-build fetch-deb`: fetch .deb packages from a Debian archive (verified
// through its signed indices) or exactly those a lock file names, into a
// directory, and write a lock file. A thin layer over source/debian_fetch.hpp.
#include "cli/command.hpp"
#include "sysext/pipeline/build.hpp"
#include "sysext/release/release.hpp"
#include "sysext/source/debian_fetch.hpp"
#include "sysext/source/debian_repo.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sysext::cli {

namespace {

struct FetchDebOptions {
    std::string mirror;
    std::string suite;
    std::vector<std::string> components;
    std::string arch = "x86-64";
    std::string keyring;
    std::string cache_dir;
    std::string max_size = "4G";
    bool with_depends = false;
    bool base_minbase = false;
    std::string base_file;
    std::vector<std::string> assume_installed;
    std::string from_lock;
    std::string lock_out;
    std::string output_dir;
    std::vector<std::string> packages;
};

// Warnings (a damaged cache entry) reach the user; stages only with --verbose.
class StderrReporter : public Reporter {
public:
    StderrReporter(bool quiet, bool verbose) : m_quiet(quiet), m_verbose(verbose) {}
    void stage(std::string_view name) override {
        if (m_verbose)
            std::fprintf(stderr, "%.*s\n", static_cast<int>(name.size()), name.data());
    }
    void warn(std::string_view message) override {
        if (!m_quiet)
            std::fprintf(stderr, "sysext-build: warning: %.*s\n", static_cast<int>(message.size()),
                         message.data());
    }

private:
    bool m_quiet;
    bool m_verbose;
};

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// --arch takes systemd's names, as every command does; Debian's ("amd64") get a hint.
const std::string& checked_arch(const std::string& arch) {
    if (arch != "_any" && release::known_architecture(arch))
        return arch;
    std::string hint = release::architecture_hint(arch);
    throw_usage("--arch: unknown architecture " + quote(arch) +
                (hint.empty() ? "" : " (did you mean " + quote(hint) + "?)") +
                "; fetch-deb takes systemd's names, as every command does: x86-64, arm64, ...");
}

void run(const FetchDebOptions& o, const GlobalOptions& g) {
    StderrReporter reporter(g.quiet, g.verbose);
    source::Fetcher fetcher({o.cache_dir, parse_size(o.max_size, "--max-download-size"), &reporter});

    source::DebFetchResult result;
    if (!o.from_lock.empty()) {
        std::vector<std::string> names;
        for (const auto& p : o.packages)
            names.push_back(source::parse_package_request(p).name);
        result = source::fetch_locked_debs(source::LockFile::read(o.from_lock), names, o.mirror,
                                           fetcher, reporter);
    } else {
        source::DebFetchRequest request;
        request.mirror = o.mirror;
        request.suite = o.suite;
        request.components = o.components;
        request.architecture = pipeline::debian_architecture(checked_arch(o.arch));
        request.keyring = o.keyring;
        for (const auto& p : o.packages)
            request.packages.push_back(source::parse_package_request(p));
        request.with_depends = o.with_depends;
        request.base_minbase = o.base_minbase;
        if (!o.base_file.empty())
            request.base = source::read_base_system(o.base_file);
        if (request.base.origin.empty())
            request.base.origin = "--assume-installed";
        for (const auto& name : o.assume_installed)
            request.base.add(name);
        result = source::fetch_debs(request, fetcher, reporter);
    }

    std::error_code ec;
    std::filesystem::create_directories(o.output_dir, ec);
    if (ec)
        throw_errno(o.output_dir + ": cannot create the directory", ec.value());
    source::LockFile lock;
    nlohmann::ordered_json report = nlohmann::ordered_json::array();
    for (const auto& d : result.debs) {
        const std::string dest =
            o.output_dir + "/" +
            base_name(d.entry.filename.empty() ? d.entry.url : d.entry.filename);
        source::copy_verified(d.path, d.entry.sha256, dest);
        lock.add(d.entry);
        if (g.json)
            report.push_back({{"name", d.entry.name},
                              {"version", d.entry.version},
                              {"architecture", d.entry.architecture},
                              {"path", dest},
                              {"sha256", d.entry.sha256},
                              {"size", d.entry.size},
                              {"from_cache", d.from_cache}});
        else if (!g.quiet)
            std::printf("%s %s %s -> %s (%s%s)\n", d.entry.name.c_str(), d.entry.version.c_str(),
                        d.entry.architecture.c_str(), dest.c_str(),
                        format_size(d.entry.size).c_str(), d.from_cache ? ", cached" : "");
    }
    if (!o.lock_out.empty())
        lock.write(o.lock_out);
    if (g.json)
        std::printf("%s\n", report.dump(2).c_str());
}

} // namespace

static CommandRegistration reg{
    60, [](CLI::App& app, const GlobalOptions& g) {
        auto opts = std::make_shared<FetchDebOptions>();
        CLI::App* cmd = app.add_subcommand(
            "fetch-deb", "Fetch Debian packages, verified through the archive's signed indices");
        cmd->add_option("PACKAGE", opts->packages,
                        "PACKAGE[=PATTERN]: latest, 5.x, 5.4.x, 5.4.2 or an exact version");
        cmd->add_option("--mirror", opts->mirror,
                        "Debian mirror URL (default: from the host's apt sources)");
        cmd->add_option("--suite", opts->suite,
                        "Suite or codename, e.g. trixie (default: from the apt sources)");
        cmd->add_option("--component", opts->components,
                        "Archive component (repeatable; default main)")
            ->allow_extra_args(false);
        cmd->add_option("--arch", opts->arch,
                        "Architecture, systemd's names: x86-64, arm64, ... (Debian's amd64, arm64)")
            ->capture_default_str();
        cmd->add_option("--keyring", opts->keyring,
                        std::string("Keyring for gpgv (default ") + source::k_debian_keyring + ")");
        cmd->add_option(
            "--download-cache", opts->cache_dir,
            "Download cache directory (default $XDG_CACHE_HOME/sysext-build/downloads)");
        cmd->add_option("--max-download-size", opts->max_size, "Refuse any download larger than this")
            ->capture_default_str();
        cmd->add_flag("--with-depends", opts->with_depends,
                      "Also fetch the packages they depend on that the base system lacks");
        cmd->add_option("--base", opts->base_file,
                        "Packages the base system has: a root directory, a dpkg status file or a "
                        "list of names");
        cmd->add_flag(
            "--base-minbase", opts->base_minbase,
            "The base system has the suite's minbase (Priority: required packages and apt)");
        cmd->add_option("--assume-installed", opts->assume_installed,
                        "A package the base system has (repeatable)")
            ->allow_extra_args(false);
        cmd->add_option("--from-lock", opts->from_lock,
                        "Fetch exactly the packages this lock file names");
        cmd->add_option("--lock", opts->lock_out, "Write the lock file here");
        cmd->add_option("-o,--output", opts->output_dir, "Directory for the .deb files")
            ->required();
        cmd->callback([opts, &g] {
            if (opts->packages.empty() && opts->from_lock.empty())
                throw_usage("fetch-deb: name at least one package, or give --from-lock");
            run(*opts, g);
        });
    }};

} // namespace sysext::cli

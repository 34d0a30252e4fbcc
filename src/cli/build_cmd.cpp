// sysext-build build PROFILE [--version PATTERN] [--target T] [--arch A] [-o DIR]
// and its shorthand `sysext-build PROFILE ...` (see main.cpp).
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "cli/terminal_reporter.hpp"
#include "sysext/pipeline/build.hpp"
#include "sysext/publish/publish.hpp"
#include "sysext/profile/profile.hpp"
#include "sysext/release/release.hpp"
#include "sysext/source/lock.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>
#include <unistd.h>

namespace sysext::cli {

// Where profiles are looked for by name: $SYSEXT_BUILD_PROFILES, ./profiles,
// then the tree the executable was built from or installed with.
std::vector<std::string> profile_dirs() {
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("SYSEXT_BUILD_PROFILES"); env && *env)
        dirs.push_back(env);
    dirs.push_back("profiles");
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        std::string dir(exe, static_cast<size_t>(n));
        dir = dir.substr(0, dir.rfind('/'));
        auto parent = std::filesystem::path(dir).parent_path();
        dirs.push_back((parent / "profiles").string());                    // a build dir in the source tree
        dirs.push_back((parent / "share/sysext-build/profiles").string()); // installed
    }
    return dirs;
}

namespace {

struct BuildArgs {
    std::string profile;
    unsigned revision = 0;
    std::set<std::string> given; // the options the command line gave (for --lock's defaults)
    std::string version = "latest";
    std::string target;
    std::string arch = "x86-64";
    std::string output = "out";
    std::string lock;
    std::string mirror, keyring, cache;
    std::vector<std::string> sets;
    std::string base_root, base_list;
    bool no_elf_check = false;
    std::string key, cert, passphrase_env;
    bool ddi = false;
    int passphrase_fd = -1;
    bool force_insecure_key = false;
    bool payload = false;
    std::vector<std::string> payload_keys;
    size_t payload_signatures = 0; // 0: not given
    std::string release_dir, base_url, on_update;
    publish::GpgSigner gpg;
    PackingArgs packing;
    FormatArgs format;
    bool tail_packing_from_lock = false; // the lock said yes or no
};

// The release directory of a finished build (publish/publish.hpp).
publish::PublishResult publish_build(const BuildArgs& a, const pipeline::BuildOptions& o,
                                     const pipeline::BuildResult& r, Reporter& reporter) {
    publish::PublishRequest p;
    p.release_dir = a.release_dir;
    p.base_url = a.base_url;
    p.on_update = a.on_update;
    p.gpg = a.gpg;
    p.name = r.name;
    p.version = r.version;
    p.architecture = r.architecture;
    p.target = r.target;
    p.profile = o.profile;
    p.image = r.image;
    p.ddi = r.ddi;
    p.sidecars = r.signed_outputs;
    p.payload = r.payload;
    p.payload_hash_file = r.payload_hash_file;
    p.lock = r.lock;
    p.release_text = r.release_text;
    p.components = r.components;
    p.root_hash = r.root_hash;
    p.certificate_fingerprint = r.certificate_fingerprint;
    auto result = publish::publish(p, reporter);
    for (const auto& w : result.warnings)
        reporter.warn(w);
    return result;
}

// With --lock, the lock's record of the build (profile, target, architecture,
// time, compression, ...) for every setting the command line did not give, so
// that `build --lock FILE` alone rebuilds the same bytes whatever the
// environment (SOURCE_DATE_EPOCH included) says.
BuildArgs with_lock_settings(BuildArgs a) {
    if (a.lock.empty())
        return a;
    const auto lock = source::LockFile::read(a.lock);
    const auto& s = lock.settings();
    auto take = [&](const char* key, const char* flag, std::string& field) {
        auto it = s.find(key);
        if (it != s.end() && !a.given.count(flag))
            field = it->second;
    };
    if (a.profile.empty()) {
        auto it = s.find("profile");
        if (it == s.end())
            throw_usage(a.lock + ": names no profile (a lock from an older release): give PROFILE");
        a.profile = it->second;
    }
    take("target", "--target", a.target);
    take("architecture", "--arch", a.arch);
    take("mtime", "--mtime", a.packing.mtime);
    // The lock's file system settings, unless --format chose another file
    // system: then that one's defaults (or flags) apply, not the lock's.
    const auto locked_format = s.find("format");
    const std::string lock_format = locked_format == s.end() ? "squashfs" : locked_format->second;
    const bool same_format = !a.given.count("--format") || a.format.format == lock_format;
    auto take_packing = [&](const char* key, const char* flag, std::string& field) {
        auto it = s.find(key);
        if (same_format && it != s.end() && !a.given.count(flag)) {
            field = it->second;
            a.given.insert(flag);
        }
    };
    if (!a.given.count("--format")) {
        a.format.format = lock_format;
        a.given.insert("--format");
    }
    take_packing("compression", "--compression", a.packing.compression);
    take_packing("block_size", "--block-size", a.packing.block_size);
    take_packing("erofs_pcluster", "--erofs-pcluster", a.format.pcluster);
    if (auto it = s.find("fragments"); same_format && it != s.end() && !a.given.count("--fragments")) {
        a.format.fragments = it->second == "yes";
        a.given.insert("--fragments");
    }
    if (auto it = s.find("tail_packing"); same_format && it != s.end() && !a.given.count("--tail-packing")) {
        a.packing.tail_packing = it->second == "yes";
        a.tail_packing_from_lock = true;
    }
    if (auto it = s.find("revision"); it != s.end() && !a.given.count("--revision")) {
        const std::string& n = it->second;
        if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos)
            throw_input(a.lock + ": build.revision " + quote_untrusted(n) + " is not a number");
        a.revision = static_cast<unsigned>(std::stoul(n));
    }
    if (auto it = s.find("xattrs"); it != s.end() && !a.given.count("--no-xattrs"))
        a.packing.no_xattrs = it->second == "no";
    std::set<std::string> set_keys;
    for (const auto& kv : a.sets)
        set_keys.insert(kv.substr(0, kv.find('=')));
    for (const auto& [key, value] : s)
        if (key.rfind("set.", 0) == 0 && !set_keys.count(key.substr(4)))
            a.sets.push_back(key.substr(4) + "=" + value);
    return a;
}

// The image's file system and its settings, for --json.
nlohmann::json packing_json(const pipeline::BuildResult& r) {
    const pipeline::ImageSettings& s = r.settings;
    nlohmann::json j = {{"format", pipeline::image_format_name(s.format)},
                        {"compression", s.compression()},
                        {"tail_packing", s.tail_packing()},
                        {"xattrs", s.xattrs()},
                        {"disk_image", r.ddi},
                        {"rule", s.rule.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.rule)}};
    if (s.format == pipeline::ImageFormat::Erofs) {
        j["erofs_pcluster"] = s.erofs.pcluster_size;
        j["fragments"] = s.erofs.fragments;
    } else {
        j["block_size"] = s.squashfs.block_size;
    }
    return j;
}

// "erofs, lz4hc:12, 64K physical clusters, tail packing, in a signed disk image"
std::string packing_summary(const pipeline::BuildResult& r) {
    const pipeline::ImageSettings& s = r.settings;
    std::string text = std::string(pipeline::image_format_name(s.format)) + ", " + s.compression();
    if (s.format == pipeline::ImageFormat::Erofs)
        text += ", " + std::to_string(s.erofs.pcluster_size / 1024) + "K physical clusters";
    else
        text += ", " + std::to_string(s.squashfs.block_size / 1024) + "K blocks";
    if (s.tail_packing())
        text += ", tail packing";
    if (s.format == pipeline::ImageFormat::Erofs && s.erofs.fragments)
        text += ", fragments";
    if (r.ddi)
        text += ", in a signed disk image";
    if (!s.rule.empty())
        text += " (" + s.rule + ")";
    return text;
}

void run_build(const BuildArgs& given_args, const GlobalOptions& global) {
    if (given_args.profile.empty() && given_args.lock.empty())
        throw_usage("PROFILE is required (or --lock FILE, which names it)");
    const BuildArgs a = with_lock_settings(given_args);
    pipeline::BuildOptions o;
    o.profile = profile::find(a.profile, profile_dirs());
    o.target = a.target;
    o.architecture = a.arch;
    o.version = a.version;
    o.revision = a.revision;
    o.output_dir = a.output;
    o.lock_in = a.lock;
    o.mirror = a.mirror;
    o.keyring = a.keyring;
    o.download_cache = a.cache;
    o.base_root = a.base_root;
    o.base_list = a.base_list;
    o.elf_check = !a.no_elf_check;
    o.key = a.key;
    o.cert = a.cert;
    o.ddi = a.ddi;
    o.passphrase_fd = a.passphrase_fd;
    o.passphrase_env = a.passphrase_env;
    o.force_insecure_key = a.force_insecure_key;
    o.payload = a.payload;
    o.payload_keys = a.payload_keys;
    if (a.payload_signatures > 0) { // room in a payload asks for a payload
        o.payload = true;
        o.payload_signatures = a.payload_signatures;
    }
    for (const auto& kv : a.sets) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
            throw_usage("--set: expected KEY=VALUE, got " + quote(kv));
        o.vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    // What the command line (or the lock) says of the file system; the
    // target's format rules fill in the rest (pipeline/image_format.hpp).
    auto given = [&](const char* flag, const std::string& value) {
        return a.given.count(flag) ? value : std::string();
    };
    auto cache = a.packing.cache.open();
    o.packing.format = given("--format", a.format.format);
    o.packing.compression = given("--compression", a.packing.compression);
    o.packing.block_size = given("--block-size", a.packing.block_size);
    o.packing.pcluster = given("--erofs-pcluster", a.format.pcluster);
    if (a.given.count("--tail-packing") || a.tail_packing_from_lock)
        o.packing.tail_packing = a.packing.tail_packing ? 1 : 0;
    if (a.given.count("--fragments"))
        o.packing.fragments = a.format.fragments ? 1 : 0;
    o.packing.xattrs = !a.packing.no_xattrs;
    o.packing.jobs = a.packing.jobs;
    o.packing.cache = cache.get();
    o.packing.cache_forced = a.packing.cache.forced;
    o.payload_cache = cache.get();
    o.mtime = resolve_mtime(a.packing.mtime);
    TerminalReporter reporter(global.quiet || global.json);
    if (!a.base_url.empty() && a.release_dir.empty())
        throw_usage("--base-url: only meaningful with --release-dir");
    if (a.arch == "_any" && !a.release_dir.empty())
        throw_usage("--release-dir: releases are named NAME-VERSION-ARCH for systemd-sysupdate; "
                    "publish an --arch _any image under each architecture with publish --arch");
    publish::check_base_url(a.base_url); // before the build, not after it
    if (a.gpg.enabled() && a.release_dir.empty())
        throw_usage("--gpg-key: only meaningful with --release-dir");
    if (a.gpg.enabled())
        publish::gpg_fingerprint(a.gpg); // the key too
    auto r = pipeline::build(o, reporter);
    a.packing.cache.finish(cache.get(), reporter);
    std::optional<publish::PublishResult> published;
    if (!a.release_dir.empty())
        published = publish_build(a, o, r, reporter);
    reporter.finish();
    if (global.json) {
        nlohmann::json inputs = nlohmann::json::array();
        for (const auto& i : r.inputs)
            inputs.push_back({{"name", i.name}, {"version", i.version}, {"sha256", i.sha256}});
        nlohmann::json j = {{"name", r.name},       {"version", r.version}, {"target", r.target},
                            {"architecture", r.architecture}, {"image", r.image}, {"lock", r.lock},
                            {"sha256", r.sha256},   {"size", r.size},       {"entries", r.entries},
                            {"format", pipeline::image_format_name(r.settings.format)},
                            {"packing", packing_json(r)},
                            {"components", r.components}, {"inputs", inputs},
                            {"elf_files_checked", a.no_elf_check ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(r.elf_checked)},
                            {"block_cache", cache ? cache_json(*cache) : nlohmann::json(nullptr)},
                            {"root_hash", r.root_hash}, {"signed_outputs", r.signed_outputs},
                            {"payload", r.payload}, {"payload_hash_file", r.payload_hash_file},
                            {"extension_release", release::parse(r.release_text, "extension-release")},
                            {"left_out_recommends", r.left_out_recommends},
                            {"host_listing", r.host_listing.empty() ? nlohmann::json(nullptr)
                                                                    : nlohmann::json(r.host_listing)},
                            {"host_overlays", r.host_listing.empty()
                                                  ? nlohmann::json(nullptr)
                                                  : nlohmann::json(r.host_overlays)}};
        if (published) {
            nlohmann::json files = nlohmann::json::array();
            for (const auto& f : published->files)
                files.push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
            j["release"] = {{"path", published->path},
                            {"image", published->image_file},
                            {"already_published", published->already_published},
                            {"files", files}};
        }
        std::cout << j.dump(2) << "\n";
        return;
    }
    if (global.quiet)
        return;
    std::cout << "built " << r.name << " " << r.version << " (" << r.target << ", " << r.architecture
              << ")\n"
              << "  image   " << r.image << "  " << format_size(r.size) << ", " << r.entries
              << " entries\n"
              << "  format  " << packing_summary(r) << "\n"
              << "  sha256  " << r.sha256 << "\n"
              << "  lock    " << r.lock << "  (" << r.inputs.size() << " inputs)\n";
    if (a.no_elf_check)
        std::cout << "  ELF check skipped (--no-elf-check)\n";
    else
        std::cout << "  checked " << r.elf_checked << " ELF files\n";
    if (!r.host_listing.empty())
        std::cout << "  host    " << r.host_overlays.size() << " files replace the host's ("
                  << r.host_listing << ")\n";
    if (cache) {
        const BlockCacheCounters c = cache->counters();
        std::cout << "  cache   " << c.hits << " of " << c.hits + c.misses
                  << " blocks and payload chunks from the cache\n";
    }
    if (!r.payload.empty())
        std::cout << "  payload " << r.payload
                  << (r.payload_hash_file.empty() ? "" : "  (unsigned; hash to sign: " + r.payload_hash_file + ")")
                  << "\n";
    if (!r.root_hash.empty()) {
        std::cout << "  signed  root hash " << r.root_hash << "\n";
        for (const auto& f : r.signed_outputs)
            std::cout << "          " << f << "\n";
    }
    for (const auto& [name, version] : r.components)
        std::cout << "  " << name << (version.empty() ? "" : " " + version) << "\n";
    if (!r.left_out_recommends.empty()) {
        std::cout << "  left out " << r.left_out_recommends.size()
                  << " recommended packages (a source's \"recommends\" takes them along):\n";
        for (const auto& p : r.left_out_recommends)
            std::cout << "          " << p << "\n";
    }
    if (published)
        std::cout << "  release " << published->path << "  ("
                  << (published->already_published ? "already published, identical"
                                                    : std::to_string(published->files.size()) + " files")
                  << ")\n";
}

const CommandRegistration registration{5, [](CLI::App& app, const GlobalOptions& global) {
    auto a = std::make_shared<BuildArgs>();
    CLI::App* cmd = app.add_subcommand(
        "build", "Build an extension from a profile (shorthand: sysext-build PROFILE ...)");
    cmd->add_option("PROFILE", a->profile,
                    "A profile name (e.g. podman) or a profile file (default with --lock: the lock's)");
    cmd->add_option("--version", a->version,
                    "Version of the main package: 5.x, 5.4.x, 5.4.2 or latest (default)");
    cmd->add_option("-t,--target", a->target, "The profile's target (default: its default_target)");
    cmd->add_option("--arch", a->arch,
                    "Architecture, systemd's names: x86-64 (default), arm64, ...; _any for "
                    "scripts and data (no ARCHITECTURE=, no ELF files)");
    cmd->add_option("-o,--output", a->output, "Output directory (default: out)");
    cmd->add_option("--revision", a->revision,
                    "Release N of the same upstream version (VERSION-rN), e.g. after a carried "
                    "package's security fix")
        ->check(CLI::Range(1u, 9999u));
    cmd->add_option("--lock", a->lock, "Rebuild exactly the inputs a lock file names");
    cmd->add_option("--set", a->sets, "A profile variable, KEY=VALUE (repeatable)")->allow_extra_args(false);
    cmd->add_option("--mirror", a->mirror, "Debian mirror URL (default: from the host's apt sources)")
        ->group("Sources");
    cmd->add_option("--keyring", a->keyring, "Keyring that signs the Debian archive")->group("Sources");
    cmd->add_option("--download-cache", a->cache,
                    "Download cache (default: $XDG_CACHE_HOME/sysext-build/downloads)")
        ->group("Sources");
    cmd->add_option("--base-root", a->base_root, "Root of the target base system, for the ELF check")
        ->group("Checks");
    cmd->add_option("--base-list", a->base_list, "Listing of the target base system's files")->group("Checks");
    cmd->add_flag("--no-elf-check", a->no_elf_check, "Do not check ELF machines, loaders and libraries")
        ->group("Checks");
    cmd->add_option("--key", a->key, "Sign: private key, a PEM file or an OpenSSL store URI (pkcs11:...)")
        ->group("Signing");
    cmd->add_option("--cert", a->cert, "Sign: the key's certificate (PEM)")->group("Signing");
    cmd->add_flag("--ddi", a->ddi,
                  "Make IMAGE.raw a signed GPT disk image (root, root-verity, root-verity-sig) "
                  "instead of sidecars")
        ->group("Signing");
    cmd->add_option("--passphrase-fd", a->passphrase_fd, "Read the key's passphrase from this descriptor")
        ->group("Signing");
    cmd->add_option("--passphrase-env", a->passphrase_env, "Read the key's passphrase from this variable")
        ->group("Signing");
    cmd->add_flag("--force-insecure-key", a->force_insecure_key,
                  "Accept a key file that group or others can read")
        ->group("Signing");
    cmd->add_flag("--payload", a->payload,
                  "Also write a Flatcar update payload, IMAGE.gz (always done for the flatcar target)")
        ->group("Payload");
    cmd->add_option("--payload-key", a->payload_keys,
                    "Sign the payload with this RSA key (repeatable, the production key last); without "
                    "one the payload is left unsigned with room for two signatures and IMAGE.gz.hash "
                    "holds the hash to sign")
        ->allow_extra_args(false)
        ->group("Payload");
    cmd->add_option("--payload-signatures", a->payload_signatures,
                    "Leave the payload unsigned with room for N RSA-2048 signatures (default 2; "
                    "implies --payload)")
        ->check(CLI::Range(1, 3))
        ->excludes("--payload-key")
        ->group("Payload");
    cmd->add_option("--release-dir", a->release_dir,
                    "Also publish into DIR/TARGET/NAME-VERSION-ARCH/: the image as NAME-VERSION-ARCH.raw, "
                    "sidecars, sysupdate transfers and units, Butane, reports, manifest.json, SHA256SUMS (an existing release "
                    "with other bytes is refused)")
        ->group("Publishing");
    cmd->add_option("--base-url", a->base_url,
                    "URL the release's files will be served from, for the sysupdate transfers and Butane files")
        ->group("Publishing");
    cmd->add_option("--on-update", a->on_update,
                    "What hosts do when an update arrived: refresh (merge it at once, the "
                    "default) or reboot-required (touch /run/reboot-required)")
        ->check(CLI::IsMember({"refresh", "reboot-required"}))
        ->group("Publishing");
    cmd->add_option("--gpg-key", a->gpg.key,
                    "Sign the release's SHA256SUMS (SHA256SUMS.gpg) with this GnuPG key (id, "
                    "fingerprint or user id; gpg and gpg-agent, smartcards included) and say "
                    "Verify=yes in the transfers")
        ->group("Publishing");
    cmd->add_option("--gpg-homedir", a->gpg.homedir,
                    "GnuPG home directory of --gpg-key (default: GNUPGHOME or ~/.gnupg)")
        ->needs("--gpg-key")
        ->group("Publishing");
    a->packing.add_to(*cmd);
    a->format.add_to(*cmd);
    cmd->callback([a, &global, cmd] {
        for (const CLI::Option* opt : cmd->get_options())
            if (opt->count() > 0)
                a->given.insert(opt->get_name());
        run_build(*a, global);
    });
}};

} // namespace
} // namespace sysext::cli

// sysext-build publish IMAGE --target T --release-dir DIR [...]: a release
// directory from an image built and signed earlier (publish/from_image.hpp).
#include "cli/command.hpp"
#include "cli/terminal_reporter.hpp"
#include "sysext/pipeline/image_format.hpp"
#include "sysext/publish/from_image.hpp"
#include "sysext/util/error.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace sysext::cli {

namespace {

// --format checks the image's file system (of the bare image, or of a disk
// image's data partition); the image is published as it is.
void check_format(const std::string& image, const std::string& format) {
    if (format.empty())
        return;
    const pipeline::ImageFormat want = pipeline::parse_image_format(format);
    const std::optional<pipeline::ImageFormat> have = pipeline::image_format_of(image);
    if (have != want)
        throw_usage(image + ": " +
                    (have ? std::string(pipeline::image_format_name(*have)) + " inside"
                          : std::string("neither squashfs nor EROFS")) +
                    ", not " + pipeline::image_format_name(want) +
                    " (publish takes the image as it is; --format only checks it)");
}

void run_publish(const publish::PublishImageOptions& o, const std::string& format,
                 const GlobalOptions& global) {
    check_format(o.image, format);
    TerminalReporter reporter(global.quiet || global.json);
    auto r = publish::publish_image(o, reporter);
    for (const auto& w : r.warnings)
        reporter.warn(w);
    reporter.finish();
    if (global.json) {
        nlohmann::json files = nlohmann::json::array();
        for (const auto& f : r.files)
            files.push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
        std::cout << nlohmann::json{{"path", r.path},
                                    {"image", r.image_file},
                                    {"already_published", r.already_published},
                                    {"files", files}}
                         .dump(2)
                  << "\n";
    } else if (!global.quiet) {
        std::cout << "release " << r.path << "  ("
                  << (r.already_published ? "already published, identical"
                                          : std::to_string(r.files.size()) + " files")
                  << ")\n";
    }
}

const CommandRegistration registration{
    7, [](CLI::App& app, const GlobalOptions& global) {
        auto o = std::make_shared<publish::PublishImageOptions>();
        CLI::App* cmd = app.add_subcommand(
            "publish", "Publish an image built (and signed) earlier into a release directory");
        cmd->add_option("IMAGE", o->image,
                        "The image: NAME.raw (with its sidecars) or a signed disk image")
            ->required();
        cmd->add_option("--release-dir", o->release_dir,
                        "Publish into DIR/TARGET/NAME-VERSION-ARCH/")
            ->required();
        cmd->add_option("-t,--target", o->target,
                        "The target the image was built for (directory name)")
            ->required();
        cmd->add_option("--version", o->version,
                        "The extension's version (default: SYSEXT_VERSION_ID)");
        cmd->add_option("--arch", o->architecture,
                        "Architecture (default: the image's ARCHITECTURE)");
        cmd->add_option("--lock", o->lock, "The build's lock file, published with the image");
        cmd->add_option("--profile", o->profile,
                        "The profile the image was built from, for the manifest");
        cmd->add_option("--payload", o->payload, "The image's Flatcar update payload (IMAGE.gz)");
        cmd->add_option("--cert", o->cert,
                        "Only publish a signed image that verifies with this certificate");
        cmd->add_option(
            "--base-url", o->base_url,
            "URL the release's files will be served from, for the sysupdate transfers and Butane files");
        cmd->add_option("--on-update", o->on_update,
                        "What hosts do when an update arrived: refresh (the default) or "
                        "reboot-required")
            ->check(CLI::IsMember({"refresh", "reboot-required"}));
        cmd->add_option("--gpg-key", o->gpg.key,
                        "Sign SHA256SUMS (SHA256SUMS.gpg) with this GnuPG key (id, fingerprint or "
                        "user id; gpg and gpg-agent, smartcards included) and say Verify=yes in "
                        "the transfers");
        cmd->add_option("--gpg-homedir", o->gpg.homedir,
                        "GnuPG home directory of --gpg-key (default: GNUPGHOME or ~/.gnupg)")
            ->needs("--gpg-key");
        auto format = std::make_shared<std::string>();
        cmd->add_option("--format", *format,
                        "Check that the image's file system is squashfs or erofs (the image, or "
                        "a disk image's data partition, is published as it is)");
        cmd->callback([o, format, &global] { run_publish(*o, *format, global); });
    }};

} // namespace
} // namespace sysext::cli

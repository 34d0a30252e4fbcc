// sysext-build inspect: what an image, disk image or payload holds and whether
// a host would take it, without mounting anything. Exit 0 when fine, 4 when a
// check fails or systemd would refuse the image, 3 when the file is none of
// the three.
#include "cli/command.hpp"
#include "sysext/inspect/contents.hpp"
#include "sysext/inspect/inspect.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace {

struct InspectFlags {
    sysext::inspect::InspectOptions options;
    bool list = false;
    bool usage = false;
    int depth = 3;
    size_t largest = 10;
};

nlohmann::json usage_json(const std::string& text) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : sysext::split(text, '\n')) {
        auto tab = row.find('\t');
        if (tab != std::string::npos)
            out.push_back(
                {{"dir", row.substr(tab + 1)}, {"bytes", std::stoull(row.substr(0, tab))}});
    }
    return out;
}

void run(const InspectFlags& f, const sysext::cli::GlobalOptions& g) {
    using namespace sysext;
    inspect::Inspection r = inspect::inspect(f.options);
    const auto& entries = r.listing.entries;
    bool has_contents = r.contents_read;
    if ((f.list || f.usage) && !has_contents && r.kind == "payload")
        throw_usage("--list and --usage apply to images, not payloads");
    if (g.json) {
        nlohmann::json j = inspect::to_json(r, f.largest);
        if (f.list && has_contents)
            j["entries"] = inspect::contents_json(entries);
        if (f.usage && has_contents)
            j["usage"] = usage_json(inspect::usage_by_directory(entries, f.depth));
        // Names are bytes; JSON wants UTF-8: an invalid sequence becomes U+FFFD
        // here (--list's text keeps every byte).
        std::printf("%s\n",
                    j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else if (f.list || f.usage) {
        // Only the report asked for, so that it can be diffed or piped.
        if (f.list)
            std::fputs(inspect::contents_listing(entries).c_str(), stdout);
        if (f.usage)
            std::fputs(inspect::usage_by_directory(entries, f.depth).c_str(), stdout);
    } else if (!g.quiet) {
        std::fputs(inspect::to_text(r, f.largest).c_str(), stdout);
    }
    std::fflush(stdout);
    if (!r.ok())
        throw MultiError(ErrorKind::Verify, r.problems);
}

sysext::cli::CommandRegistration reg{
    46, [](CLI::App& app, const sysext::cli::GlobalOptions& g) {
        auto f = std::make_shared<InspectFlags>();
        auto* sub = app.add_subcommand(
            "inspect",
            "Show what an image, disk image or payload holds and whether a host would take it");
        sub->footer(
            "The kind of FILE is found from its first bytes: a squashfs or EROFS image, a GPT disk "
            "image (from sign --ddi or build --ddi) or a Flatcar update payload. Nothing is "
            "mounted.\n"
            "Images: release metadata and what systemd-sysext would refuse, contents, and the "
            "dm-verity tree and signature (sidecars NAME.roothash, NAME.verity, NAME.roothash.p7s "
            "or the disk image's partitions) checked against the root hash. Payloads: the "
            "manifest, "
            "verified when --public-key or --cert is given.\n"
            "Exit status: 0 when everything checked is fine; 4 when a verity or signature check "
            "fails, systemd would refuse the image or the --os-release host would not merge it "
            "(each problem printed); 3 when FILE is none of the three kinds.");
        sub->add_option("FILE", f->options.path, "NAME.raw, a disk image or a payload")->required();
        sub->add_option(
            "--cert", f->options.cert,
            "Certificate to trust: an image's signature must verify with it (without it, "
            "the signature is checked with the certificate it carries, trust not known); "
            "for a payload, its public key must verify a signature");
        sub->add_option("--public-key", f->options.public_keys,
                        "Payload public key (PEM) that must verify a signature (repeatable)");
        sub->add_option("--os-release", f->options.os_release,
                        "A host's os-release file: report whether systemd-sysext on that host "
                        "would merge the image, and if not why (exit 4)");
        sub->add_option("--host-files", f->options.host_files,
                        "A listing of a typical host's files (profiles/base/*.files): name the "
                        "image's files that would replace the host's while merged");
        sub->add_option("--host-arch", f->options.host_arch,
                        "The host's architecture for --os-release (default: this machine's)");
        sub->add_option(
               "--scope", f->options.scope,
               "The host's scope for --os-release: system, initrd or portable (default system)")
            ->check(CLI::IsMember({"system", "initrd", "portable"}));
        sub->add_flag("--list", f->list,
                      "Print every path: MODE UID:GID SIZE PATH[ -> TARGET], sorted, no times");
        sub->add_flag("--usage", f->usage,
                      "Print file bytes per directory (cumulative): BYTES<TAB>DIR");
        sub->add_option("--depth", f->depth, "Directory levels for --usage (default 3)")
            ->check(CLI::Range(0, 64));
        sub->add_option("--largest", f->largest,
                        "How many of the largest files to show (default 10)");
        sub->callback([f, &g] { run(*f, g); });
    }};

} // namespace

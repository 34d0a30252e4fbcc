// sysext-build verify: check a signed image (sidecars) or disk image against a
// certificate; exit status 4 and every problem named when anything is wrong.
#include "cli/command.hpp"
#include "signing/certificate.hpp"
#include "sysext/util/error.hpp"
#include "sysext/verity/image_check.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace {

struct VerifyOptions {
    std::string image;
    std::string cert;
};

void run(const VerifyOptions& o, const sysext::cli::GlobalOptions& g) {
    using namespace sysext;
    signing::Certificate cert = signing::Certificate::load(o.cert);
    verity::ImageReport report = verity::check_signed_image(o.image, cert);
    if (g.json) {
        nlohmann::json checks = nlohmann::json::array();
        for (const auto& c : report.checks)
            checks.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
        nlohmann::json out = {{"image", report.path},
                              {"kind", report.kind},
                              {"ok", report.ok()},
                              {"root_hash", report.root_hash_hex},
                              {"architecture", nullptr},
                              {"release_file", nullptr},
                              {"checks", checks}};
        if (!report.arch.empty())
            out["architecture"] = report.arch;
        if (!report.release_file.empty())
            out["release_file"] = report.release_file;
        std::printf("%s\n", out.dump().c_str());
    } else if (!g.quiet) {
        for (const auto& c : report.checks)
            std::printf("%-4s %s: %s\n", c.ok ? "ok" : "FAIL", c.name.c_str(), c.detail.c_str());
    }
    if (!report.ok())
        throw MultiError(ErrorKind::Verify, report.problems());
}

sysext::cli::CommandRegistration reg{
    45, [](CLI::App& app, const sysext::cli::GlobalOptions& g) {
        auto o = std::make_shared<VerifyOptions>();
        auto* sub = app.add_subcommand(
            "verify", "Check an image's release metadata, dm-verity tree and signature");
        sub->add_option("IMAGE", o->image, "NAME.raw with sidecar files, or a disk image")
            ->required();
        sub->add_option("--cert", o->cert, "The certificate the signature must verify with")
            ->required();
        sub->callback([o, &g] { run(*o, g); });
    }};

} // namespace

// sysext-build keygen: a development signing key and self-signed certificate.
#include "cli/command.hpp"
#include "signing/keygen.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace {

void run(const sysext::signing::DevelopmentKeyOptions& options,
         const sysext::cli::GlobalOptions& g) {
    auto files = sysext::signing::write_development_key(options);
    if (g.json) {
        nlohmann::json out = {{"key", files.key_path},
                              {"certificate", files.cert_path},
                              {"certificate_fingerprint", files.fingerprint_sha256},
                              {"development", true}};
        std::printf("%s\n", out.dump().c_str());
    } else if (!g.quiet) {
        std::printf("wrote %s (private key, mode 0600)\nwrote %s (certificate, SHA-256 %s)\n"
                    "This is a DEVELOPMENT key: never ship images signed with it; see "
                    "signing/README.md for release keys.\n",
                    files.key_path.c_str(), files.cert_path.c_str(),
                    files.fingerprint_sha256.c_str());
    }
}

sysext::cli::CommandRegistration reg{
    60, [](CLI::App& app, const sysext::cli::GlobalOptions& g) {
        auto options = std::make_shared<sysext::signing::DevelopmentKeyOptions>();
        auto* sub = app.add_subcommand(
            "keygen", "Make a development signing key and certificate (not for releases)");
        sub->add_option("-o,--output", options->directory,
                        "Directory for development.key and development.crt")
            ->required();
        sub->add_option("--bits", options->rsa_bits, "RSA key size")->capture_default_str();
        sub->add_option("--days", options->valid_days, "Certificate validity in days")
            ->capture_default_str();
        sub->add_flag("--force", options->overwrite, "Replace an existing key and certificate");
        sub->callback([options, &g] { run(*options, g); });
    }};

} // namespace

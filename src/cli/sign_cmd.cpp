// sysext-build sign: dm-verity tree, root hash and signature for an image, as
// sidecar files next to it or as a disk image (--ddi).
#include "cli/command.hpp"
#include "signing/certificate.hpp"
#include "signing/key.hpp"
#include "sysext/pipeline/image_format.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/reporter.hpp"
#include "sysext/verity/signed_image.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace {

struct SignOptions {
    std::string image;
    std::string key;
    std::string cert;
    bool ddi = false;
    std::string output; // --ddi: where the disk image goes (default: IMAGE itself)
    std::string arch;
    std::string format; // asserts the image's file system
    std::string salt;
    int passphrase_fd = -1;
    std::string passphrase_env;
    bool force_insecure_key = false;
};

void run(const SignOptions& o, const sysext::cli::GlobalOptions& g) {
    using namespace sysext;
    // Key and certificate first: a bad key or passphrase fails before any work.
    signing::PrivateKey key =
        signing::PrivateKey::load({o.key, o.passphrase_fd, o.passphrase_env, o.force_insecure_key});
    signing::Certificate cert = signing::Certificate::load(o.cert);

    if (!o.output.empty() && !o.ddi)
        throw_usage("-o/--output is for --ddi: sidecar files go next to IMAGE");
    // The image is signed as it is: its file system comes from its bytes, and
    // --format only checks it.
    const std::optional<pipeline::ImageFormat> format = pipeline::image_format_of(o.image);
    if (!o.format.empty()) {
        const pipeline::ImageFormat want = pipeline::parse_image_format(o.format);
        if (format != want)
            throw_usage(o.image + ": " +
                        (format ? std::string(pipeline::image_format_name(*format)) + " inside"
                                : std::string("neither squashfs nor EROFS")) +
                        ", not " + pipeline::image_format_name(want) +
                        " (sign takes the image as it is; --format only checks it)");
    }
    verity::SignRequest req;
    req.image_path = o.image;
    req.ddi_path = o.ddi ? (o.output.empty() ? o.image : o.output) : "";
    req.arch = o.arch;
    req.salt_hex = o.salt;
    req.certificate_fingerprint = cert.fingerprint_sha256();
    req.sign = verity::pkcs7_signer(key, cert);
    verity::SignResult result = verity::sign_image(req, null_reporter());

    if (g.json) {
        nlohmann::json out = {{"image", o.image},
                              {"format", format ? nlohmann::json(pipeline::image_format_name(*format))
                                                : nlohmann::json(nullptr)},
                              {"root_hash", result.root_hash_hex},
                              {"salt", result.salt_hex},
                              {"data_blocks", result.data_blocks},
                              {"architecture", nullptr},
                              {"outputs", result.outputs}};
        if (!result.arch.empty())
            out["architecture"] = result.arch;
        std::printf("%s\n", out.dump().c_str());
    } else if (!g.quiet) {
        std::printf("signed %s (%s) with %s\nroot hash %s\n", o.image.c_str(),
                    format ? pipeline::image_format_name(*format) : "unknown format",
                    key.description().c_str(), result.root_hash_hex.c_str());
        for (const auto& path : result.outputs)
            std::printf("wrote %s\n", path.c_str());
    }
}

sysext::cli::CommandRegistration reg{
    40, [](CLI::App& app, const sysext::cli::GlobalOptions& g) {
        auto o = std::make_shared<SignOptions>();
        auto* sub = app.add_subcommand(
            "sign", "Add a dm-verity hash tree and a signed root hash to an extension image");
        sub->add_option("IMAGE", o->image, "The squashfs or EROFS image (NAME.raw)")->required();
        sub->add_option("--key", o->key, "Private key: PEM file, or OpenSSL store URI (pkcs11:...)")
            ->required();
        sub->add_option("--cert", o->cert, "The key's X.509 certificate (PEM or DER)")->required();
        sub->add_flag("--ddi", o->ddi,
                      "Make a signed GPT disk image (root, root-verity, root-verity-sig) instead "
                      "of sidecar files, as build --ddi does: IMAGE becomes it, or -o FILE");
        sub->add_option("-o,--output", o->output,
                        "With --ddi: write the disk image here and leave IMAGE as it is");
        sub->add_option("--arch", o->arch,
                        "Architecture of the disk image's partition types (default: the "
                        "image's ARCHITECTURE=)");
        sub->add_option("--format", o->format,
                        "Check that the image is squashfs or erofs (it is signed as it is, "
                        "whatever its file system)");
        sub->add_option("--salt", o->salt, "dm-verity salt in hex (default: SHA-256 of the image)");
        sub->add_option("--passphrase-fd", o->passphrase_fd,
                        "Read the key's passphrase (or token PIN) from this file descriptor");
        sub->add_option("--passphrase-env", o->passphrase_env,
                        "Read the key's passphrase from this environment variable");
        sub->add_flag("--force-insecure-key", o->force_insecure_key,
                      "Use a key file that group or others can read");
        sub->callback([o, &g] { run(*o, g); });
    }};

} // namespace

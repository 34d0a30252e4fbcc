// `sysext-build payload create|hash|attach|verify|inspect`: Flatcar update payloads.
//
// create signs with keys at hand, or (offline flow) leaves room for signatures of
// given sizes and writes the hash to sign; hash recomputes that hash; attach adds
// signatures made elsewhere; verify makes every check the host client makes;
// inspect shows the manifest.
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "cli/terminal_reporter.hpp"
#include "payload/describe.hpp"
#include "payload/format.hpp"
#include "payload/signer.hpp"
#include "payload/verifier.hpp"
#include "payload/writer.hpp"
#include "signing/key.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <vector>

namespace sysext::cli {

namespace {

using nlohmann::json;

void print_json(const json& j) { std::printf("%s\n", j.dump(2).c_str()); }

std::vector<signing::PublicKey> load_public_keys(const std::vector<std::string>& paths) {
    std::vector<signing::PublicKey> keys;
    for (const auto& p : paths)
        keys.push_back(signing::PublicKey::load_pem(p));
    return keys;
}

struct CreateFlags {
    std::string image;
    std::string output;
    std::vector<std::string> keys;
    int passphrase_fd = -1;
    std::string passphrase_env;
    bool insecure_key = false;
    std::vector<std::string> signature_sizes;
    size_t signatures = 0; // --payload-signatures; 0: not given
    std::string hash_file;
    unsigned jobs = 0;
    CacheArgs cache;
};

void run_create(const CreateFlags& f, const GlobalOptions& g) {
    if (f.passphrase_fd >= 0 && f.keys.size() > 1)
        throw_usage("--passphrase-fd serves one key; with several encrypted keys use --passphrase-env");
    if (f.keys.empty() && f.signature_sizes.empty() && f.signatures == 0 && f.hash_file.empty())
        throw_usage("payload create needs --key to sign with; to sign elsewhere, --hash-file "
                    "and/or --payload-signatures N (room for N RSA-2048 signatures, default 2) "
                    "or --signature-size");
    std::vector<signing::PrivateKey> keys;
    for (const auto& ref : f.keys) {
        signing::KeySpec spec;
        spec.ref = ref;
        spec.passphrase_fd = f.passphrase_fd;
        spec.passphrase_env = f.passphrase_env;
        spec.allow_insecure_permissions = f.insecure_key;
        keys.push_back(signing::PrivateKey::load(spec));
    }
    payload::CreateOptions options;
    options.image = f.image;
    options.output = f.output;
    options.keys = keys;
    for (const auto& s : f.signature_sizes)
        options.reserved_signature_sizes.push_back(parse_size(s, "--signature-size"));
    if (f.keys.empty() && f.signature_sizes.empty())
        options.reserved_signature_sizes = payload::rsa2048_signature_sizes(
            f.signatures > 0 ? f.signatures : payload::k_default_signatures);
    options.hash_file = f.hash_file;
    options.jobs = f.jobs;
    auto cache = f.cache.open();
    options.cache = cache.get();
    TerminalReporter reporter(g.quiet);
    payload::CreateResult r = payload::create_payload(options, reporter);
    f.cache.finish(cache.get(), reporter);
    reporter.finish();

    if (g.json) {
        json j = {{"payload", f.output},
                  {"size", r.payload_size},
                  {"image", f.image},
                  {"image_size", r.image_size},
                  {"image_sha256", to_hex(r.image_hash)},
                  {"signed_range_sha256", to_hex(r.signed_hash)},
                  {"operations", r.operations},
                  {"compressed_operations", r.compressed_operations},
                  {"signatures", r.signatures}};
        if (cache)
            j["cache"] = cache_json(*cache);
        print_json(j);
    } else if (!g.quiet) {
        const size_t room = options.reserved_signature_sizes.size();
        std::string state =
            r.signatures > 0
                ? "signed with " + std::to_string(r.signatures) + " key(s)"
                : "unsigned with room for " + std::to_string(room) +
                      (room == 1 ? " signature" : " signatures") +
                      (f.hash_file.empty() ? " (`payload hash` prints the hash to sign)"
                                           : ", hash to sign in " + f.hash_file);
        std::printf("%s: %s, %zu operations (%zu bzip2), %s\n", f.output.c_str(),
                    format_size(r.payload_size).c_str(), r.operations, r.compressed_operations,
                    state.c_str());
    }
}

void run_hash(const std::string& payload_path, const std::string& output, const GlobalOptions& g) {
    sysext::Digest hash = payload::signed_range_hash(payload_path);
    if (!output.empty())
        write_file_atomic(output, std::string(hash.begin(), hash.end()));
    if (g.json)
        print_json({{"payload", payload_path}, {"signed_range_sha256", to_hex(hash)}});
    else if (output.empty() || !g.quiet)
        std::printf("%s\n", to_hex(hash).c_str());
}

struct AttachFlags {
    std::string payload;
    std::string output;
    std::vector<std::string> signatures;
    std::vector<std::string> public_keys;
};

void run_attach(const AttachFlags& f, const GlobalOptions& g) {
    payload::AttachOptions options;
    options.payload = f.payload;
    options.output = f.output.empty() ? f.payload : f.output;
    for (const auto& path : f.signatures)
        options.signatures.push_back(read_file(path));
    std::vector<signing::PublicKey> keys = load_public_keys(f.public_keys);
    options.public_keys = keys;
    payload::AttachResult r = payload::attach_signatures(options);
    if (g.json)
        print_json({{"payload", options.output},
                    {"size", r.payload_size},
                    {"signed_range_sha256", to_hex(r.signed_hash)},
                    {"signatures", f.signatures.size()}});
    else if (!g.quiet)
        std::printf("%s: attached %zu signature(s), signed range sha256 %s\n",
                    options.output.c_str(), f.signatures.size(), to_hex(r.signed_hash).c_str());
}

struct VerifyFlags {
    std::string payload;
    std::vector<std::string> public_keys;
    std::string extract;
    std::string sha256;
};

void run_verify(const VerifyFlags& f, const GlobalOptions& g) {
    std::vector<signing::PublicKey> keys = load_public_keys(f.public_keys);
    payload::VerifyOptions options;
    options.payload = f.payload;
    options.public_keys = keys;
    options.extract = f.extract;
    if (!f.sha256.empty()) {
        std::string raw = from_hex(f.sha256);
        if (raw.size() != sysext::Digest{}.size())
            throw_usage("--sha256 wants 64 hex digits, got " + std::to_string(f.sha256.size()));
        sysext::Digest d{};
        std::copy(raw.begin(), raw.end(), d.begin());
        options.file_sha256 = d;
    }
    TerminalReporter reporter(g.quiet);
    payload::VerifyResult r = payload::verify_payload(options, reporter);
    reporter.finish();
    if (g.json) {
        json matches = json::array();
        for (const auto& m : r.matches)
            matches.push_back({{"key", m.key}, {"signature_version", m.version}});
        print_json({{"payload", f.payload},
                    {"verified", true},
                    {"size", r.payload_size},
                    {"image_size", r.image_size},
                    {"image_sha256", to_hex(r.image_hash)},
                    {"signed_range_sha256", to_hex(r.signed_hash)},
                    {"operations", r.operations},
                    {"signatures", r.signatures},
                    {"matches", matches},
                    {"checks", r.checks}});
    } else if (!g.quiet) {
        std::printf("%s: OK (%zu checks), image %llu bytes sha256 %s\n", f.payload.c_str(),
                    r.checks.size(), static_cast<unsigned long long>(r.image_size),
                    to_hex(r.image_hash).c_str());
        for (const auto& m : r.matches)
            std::printf("  signature version %u verified by the %s\n", m.version, m.key.c_str());
        if (!f.extract.empty())
            std::printf("  image written to %s\n", f.extract.c_str());
    }
}

void run_inspect(const std::string& path, bool all_operations, const GlobalOptions& g) {
    payload::PayloadDescription d = payload::describe(path);
    if (g.json)
        print_json(d.data);
    else
        std::printf("%s", d.to_text(all_operations || g.verbose).c_str());
}

// The flags CLI11 fills while parsing; the callbacks share them.
struct PayloadFlags {
    CreateFlags create;
    std::string hash_payload;
    std::string hash_output;
    AttachFlags attach;
    VerifyFlags verify;
    std::string inspect_payload;
    bool inspect_all = false;
};

} // namespace

static CommandRegistration reg{60, [](CLI::App& app, const GlobalOptions& g) {
    auto flags = std::make_shared<PayloadFlags>();
    CLI::App* payload = app.add_subcommand("payload", "Create, sign, verify and inspect Flatcar update payloads");
    payload->require_subcommand(1);

    CLI::App* create = payload->add_subcommand("create", "Make a payload (flatcar-NAME.gz) from an image");
    auto& c = flags->create;
    create->add_option("IMAGE", c.image, "The image (size a multiple of 4096)")->required();
    create->add_option("-o,--output", c.output, "The payload to write")->required();
    create->add_option("--key", c.keys, "RSA private key to sign with: PEM file or OpenSSL URI "
                                        "(pkcs11:...); repeat for more signatures, the production "
                                        "key last (update_engine checks only the last)");
    create->add_option("--passphrase-fd", c.passphrase_fd,
                       "Read the key's passphrase (or token PIN) from this file descriptor");
    create->add_option("--passphrase-env", c.passphrase_env,
                       "Read the keys' passphrase from this environment variable");
    create->add_flag("--force-insecure-key", c.insecure_key,
                     "Use a key file that group or others can read");
    create->add_option("--signature-size", c.signature_sizes,
                       "Leave the payload unsigned, with room for a signature of this size "
                       "(256 for RSA-2048); repeat per signature")
        ->excludes("--key");
    create->add_option("--payload-signatures", c.signatures,
                       "Leave the payload unsigned, with room for N RSA-2048 signatures (default 2)")
        ->check(CLI::Range(size_t{1}, payload::k_max_signatures))
        ->excludes("--key")
        ->excludes("--signature-size");
    create->add_option("--hash-file", c.hash_file, "Write the SHA-256 of the signed range here (32 raw bytes)");
    create->add_option("-j,--jobs", c.jobs, "Compression threads (default: one per core)");
    c.cache.add_to(*create);
    create->callback([flags, &g] { run_create(flags->create, g); });

    CLI::App* hash = payload->add_subcommand("hash", "Print the SHA-256 of a payload's signed range");
    hash->add_option("PAYLOAD", flags->hash_payload, "The payload, signed or not")->required();
    hash->add_option("-o,--output", flags->hash_output, "Write the 32 raw bytes here");
    hash->callback([flags, &g] { run_hash(flags->hash_payload, flags->hash_output, g); });

    CLI::App* attach = payload->add_subcommand("attach", "Attach signatures made elsewhere to an unsigned payload");
    auto& a = flags->attach;
    attach->add_option("PAYLOAD", a.payload, "The unsigned payload")->required();
    attach->add_option("--signature", a.signatures,
                       "A raw signature file, in key order (the production key's last); repeat")
        ->required();
    attach->add_option("-o,--output", a.output, "The signed payload (default: replace the input)");
    attach->add_option("--public-key", a.public_keys, "Check the signatures with these keys first");
    attach->callback([flags, &g] { run_attach(flags->attach, g); });

    CLI::App* verify = payload->add_subcommand("verify", "Check a payload as a Flatcar host does");
    auto& v = flags->verify;
    verify->add_option("PAYLOAD", v.payload, "The payload")->required();
    verify->add_option("--public-key", v.public_keys, "PEM public key or certificate; each must "
                                                      "verify a signature; repeat")->required();
    verify->add_option("--extract", v.extract, "Write the rebuilt image here");
    verify->add_option("--sha256", v.sha256, "The payload file's SHA-256 as announced (hex)");
    verify->callback([flags, &g] { run_verify(flags->verify, g); });

    CLI::App* inspect = payload->add_subcommand("inspect", "Show a payload's manifest");
    inspect->add_option("PAYLOAD", flags->inspect_payload, "The payload")->required();
    inspect->add_flag("--operations", flags->inspect_all, "List every operation");
    inspect->callback([flags, &g] { run_inspect(flags->inspect_payload, flags->inspect_all, g); });
}};

} // namespace sysext::cli

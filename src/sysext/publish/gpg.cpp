#include "sysext/publish/gpg.hpp"

#include "sysext/util/atomic_file.hpp"
#include "sysext/util/cleanup.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/process.hpp"
#include "sysext/util/strings.hpp"

#include <filesystem>
#include <vector>

namespace sysext::publish {

namespace {

// Runs gpg with ARGS (after --batch, --status-fd 1 and the home directory): its
// status lines on stdout (out), its messages on stderr (err); stdin from
// /dev/null: gpg-agent asks for a PIN or passphrase through its pinentry.
ProcessResult run_gpg(const GpgSigner& signer, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"gpg", "--batch", "--no-tty", "--status-fd", "1"};
    if (!signer.homedir.empty()) {
        argv.push_back("--homedir");
        argv.push_back(signer.homedir);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = run_process(argv);
    if (r.status == 127)
        throw Error(ErrorKind::Io, "cannot run gpg (install the gpg package)");
    return r;
}

// gpg's messages on one line, for an error.
std::string said(const ProcessResult& r) {
    std::string out;
    for (const auto& line : split(r.err, '\n'))
        if (!line.empty())
            out += (out.empty() ? "" : "; ") + line;
    return out.empty() ? "gpg exited with " + std::to_string(r.status) : out;
}

std::string key_label(const GpgSigner& s) {
    return "--gpg-key " + quote_untrusted(s.key) +
           (s.homedir.empty() ? std::string() : " (--gpg-homedir " + s.homedir + ")");
}

class Scratch : public cleanup::TempDir {
public:
    Scratch() : TempDir(std::filesystem::temp_directory_path().string(), "sysext-gpg-") {}
};

} // namespace

std::string gpg_fingerprint(const GpgSigner& signer) {
    if (signer.key.empty() || signer.key[0] == '-')
        throw_usage(key_label(signer) + ": not a key id, fingerprint or user id");
    auto r = run_gpg(signer, {"--with-colons", "--list-secret-keys", "--", signer.key});
    // sec:VALIDITY:...:CAPABILITIES(12th):... then fpr:::::::::FINGERPRINT:
    std::vector<std::string> fingerprints;
    bool in_primary = false, can_sign = false;
    for (const auto& line : split(r.out, '\n')) {
        auto f = split(line, ':');
        if (f.empty())
            continue;
        if (f[0] == "sec") {
            in_primary = true;
            can_sign = f.size() > 11 && f[11].find('S') != std::string::npos &&
                       f[1] != "r" && f[1] != "e" && f[1] != "d";
        } else if (f[0] == "fpr" && in_primary) {
            in_primary = false;
            if (f.size() > 9 && can_sign)
                fingerprints.push_back(f[9]);
        } else if (f[0] != "fpr") {
            in_primary = false;
        }
    }
    if (fingerprints.empty())
        throw_usage(key_label(signer) + ": no secret key that can sign (" + said(r) +
                    "); `gpg --list-secret-keys` shows the keys gpg has");
    if (fingerprints.size() > 1)
        throw_usage(key_label(signer) + ": names " + std::to_string(fingerprints.size()) +
                    " secret keys that can sign; give a fingerprint");
    return fingerprints.front();
}

std::string gpg_detach_sign(const GpgSigner& signer, const std::string& data,
                            const std::string& what) {
    const std::string fingerprint = gpg_fingerprint(signer);
    Scratch scratch;
    const std::string input = scratch.path() + "/data";
    const std::string output = scratch.path() + "/data.sig";
    write_file_atomic(input, data, 0600);
    // SHA-256: every gpg a host may have verifies it; gpg picks the key's
    // signing subkey, if it has one.
    auto r = run_gpg(signer, {"--local-user", fingerprint, "--digest-algo", "SHA256",
                              "--output", output, "--detach-sign", input});
    if (r.status != 0 || r.out.find("[GNUPG:] SIG_CREATED D ") == std::string::npos)
        throw Error(ErrorKind::Io, what + ": gpg could not sign with " + key_label(signer) +
                                       ": " + said(r));
    std::string signature = read_file(output, 1 << 20);
    if (!gpg_verifies(signer, fingerprint, data, signature))
        throw Error(ErrorKind::Verify,
                    what + ": the signature gpg made does not verify with key " + fingerprint);
    return signature;
}

bool gpg_verifies(const GpgSigner& signer, const std::string& fingerprint, const std::string& data,
                  const std::string& signature) {
    Scratch scratch;
    const std::string input = scratch.path() + "/data";
    const std::string sig = scratch.path() + "/data.sig";
    write_file_atomic(input, data, 0600);
    write_file_atomic(sig, signature, 0600);
    auto r = run_gpg(signer, {"--verify", sig, input});
    if (r.status != 0)
        return false;
    // [GNUPG:] VALIDSIG SIGNING-KEY-FPR DATE TIME ... PRIMARY-KEY-FPR
    for (const auto& line : split(r.out, '\n')) {
        auto words = split_words(line);
        if (words.size() >= 3 && words[0] == "[GNUPG:]" && words[1] == "VALIDSIG" &&
            words.back() == fingerprint)
            return true;
    }
    return false;
}

} // namespace sysext::publish

// InRelease verification and parsing (see debian_release.hpp).
#include "sysext/source/debian_release.hpp"

#include "sysext/source/debian_control.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/cleanup.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/process.hpp"
#include "sysext/util/strings.hpp"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace sysext::source {

namespace {

// A private directory for gpgv's input, output and home, removed afterwards.
class ScratchDir : public cleanup::TempDir {
public:
    ScratchDir() : TempDir(std::filesystem::temp_directory_path().string(), "sysext-gpgv-") {}
};

// gpgv's lines that say why, without the chatter about when and with which key.
std::string verdict(const std::string& output) {
    std::string out;
    for (const auto& line : split(output, '\n')) {
        if (line.empty() || line.find("Signature made") != std::string::npos ||
            line.find("using ") != std::string::npos)
            continue;
        out += (out.empty() ? "" : "; ") + line;
    }
    return out.empty() ? "gpgv failed without a message" : out;
}

} // namespace

std::string verify_inrelease(const std::string& inrelease, const std::string& keyring,
                             const std::string& origin) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(keyring, ec))
        throw_usage(keyring + ": keyring not found");
    ScratchDir scratch;
    const std::string input = scratch.path() + "/InRelease";
    const std::string output = scratch.path() + "/Release";
    write_file_atomic(input, inrelease, 0600);
    // --homedir keeps gpgv away from the user's ~/.gnupg.
    auto r = run_process({"gpgv", "--homedir", scratch.path(), "--keyring",
                          std::filesystem::absolute(keyring).string(), "--output", output, input});
    if (r.status == 127)
        throw Error(ErrorKind::Io, origin + ": cannot run gpgv (install the gpgv package)");
    if (r.status != 0)
        throw_verify(origin + ": signature check failed: " + verdict(r.err + r.out));
    std::string signed_text = read_file(output);
    if (signed_text.empty())
        throw_verify(origin + ": signature check failed: gpgv verified no content");
    return signed_text;
}

void check_valid_until(const ReleaseFile& release, int64_t now, const std::string& origin) {
    if (release.valid_until.empty())
        return;
    // "Sat, 06 Dec 2025 20:00:00 UTC": the Release format's dates are in UTC.
    struct tm tm {};
    const char* end = ::strptime(release.valid_until.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
    std::string zone = end ? std::string(end) : "";
    while (!zone.empty() && zone.front() == ' ')
        zone.erase(0, 1);
    if (!end || !(zone == "UTC" || zone == "GMT" || zone == "Z" || zone == "+0000"))
        throw_input(origin + ": unreadable Valid-Until " + quote(release.valid_until));
    if (static_cast<int64_t>(::timegm(&tm)) < now)
        throw_verify(origin + ": expired on " + release.valid_until +
                     " (Valid-Until): the mirror serves an outdated Release");
}

ReleaseFile parse_release(const std::string& text, const std::string& origin) {
    auto paragraphs = parse_paragraphs(text, origin);
    if (paragraphs.empty())
        throw_input(origin + ": empty Release file");
    const ControlParagraph& p = paragraphs.front();
    ReleaseFile r;
    r.suite = p.get("Suite");
    r.codename = p.get("Codename");
    r.architectures = split_words(p.get("Architectures"));
    r.components = split_words(p.get("Components"));
    r.acquire_by_hash = p.get("Acquire-By-Hash") == "yes";
    r.valid_until = p.get("Valid-Until");
    r.all_in_arch_indices = p.get("No-Support-for-Architecture-all") == "Packages";
    const ControlField* sums = p.find("SHA256");
    if (!sums)
        throw_input(origin + ": no SHA256 field (MD5Sum-only archives are not trusted)");
    size_t line = sums->line;
    for (auto entry : sums->lines()) {
        ++line;
        auto w = split_words(entry);
        const std::optional<uint64_t> size = w.size() == 3 ? parse_decimal(w[1]) : std::nullopt;
        if (w.size() != 3 || w[0].size() != 64 || !size)
            throw_input(origin + ":" + std::to_string(line) + ": bad SHA256 entry " + quote(entry));
        r.sha256[w[2]] = IndexFile{w[0], *size};
    }
    return r;
}

} // namespace sysext::source

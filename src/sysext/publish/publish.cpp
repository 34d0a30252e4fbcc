#include "sysext/publish/publish.hpp"

#include "sysext/inspect/components.hpp"
#include "sysext/publish/manifest.hpp"
#include "sysext/publish/release_dir.hpp"
#include "sysext/publish/reports.hpp"
#include "sysext/publish/sysupdate.hpp"
#include "sysext/release/release.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fcntl.h>
#include <memory>

namespace sysext::publish {

namespace {

// SHA-512 of a file, for Ignition's verification.hash (3.3.0 knows only sha512).
std::string sha512_file_hex(const std::string& path) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha512(), nullptr) != 1)
        throw Error(ErrorKind::Io, "SHA-512: cannot initialise OpenSSL's digest");
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    std::vector<char> buf(1 << 20);
    off_t offset = 0;
    for (;;) {
        size_t n = pread_full(fd.get(), buf.data(), buf.size(), offset, path);
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx.get(), buf.data(), n);
        offset += static_cast<off_t>(n);
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx.get(), digest, &size);
    return to_hex(digest, size);
}

std::string without_raw(const std::string& path) {
    return ends_with(path, ".raw") ? path.substr(0, path.size() - 4) : path;
}

} // namespace

std::string release_name(const std::string& name, const std::string& version,
                         const std::string& architecture) {
    return name + "-" + version + "-" + architecture;
}

void check_base_url(const std::string& url) {
    // The base URL stands in the sysupdate transfers (INI values) and the Butane
    // YAML: no whitespace, control characters, quotes or backslashes.
    if (url.empty())
        return;
    const bool scheme = starts_with(url, "https://") || starts_with(url, "http://") ||
                        starts_with(url, "file:///");
    const bool plain = std::none_of(url.begin(), url.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '"' || c == '\'' ||
               c == '\\';
    });
    if (!scheme || !plain)
        throw_usage("--base-url " + quote_untrusted(url) +
                    ": not a plain http://, https:// or file:/// URL (no whitespace, control "
                    "characters, quotes or backslashes)");
}

PublishResult publish(const PublishRequest& r, Reporter& reporter) {
    reporter.stage("publishing " + release_name(r.name, r.version, r.architecture));
    // Each part names files and stands in SHA256SUMS, the transfers and
    // YAML: a plain word, so that no value adds a line, a key or a path there.
    for (const auto& part : {r.name, r.version, r.architecture, r.target})
        if (part.empty() || part[0] == '.' || part[0] == '-' ||
            !std::all_of(part.begin(), part.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) ||
                       std::strchr("._+~-", c) != nullptr;
            }))
            throw_usage("cannot publish: " + quote_untrusted(part) +
                        " is not usable in a release name (letters, digits and \"._+~-\", not "
                        "first \".\" or \"-\")");
    check_base_url(r.base_url);
    const auto fields = release::parse(r.release_text, "extension-release." + r.name);
    const std::string os_id = fields.count("ID") ? fields.at("ID") : "";
    PublishResult result;

    // Names: Flatcar's own layout for ID=flatcar, systemd-sysupdate's otherwise.
    Deployment d;
    d.name = r.name;
    d.version = r.version;
    d.architecture = r.architecture;
    d.base_url = r.base_url;
    d.flatcar_layout = os_id == "flatcar";
    d.os_version = fields.count("VERSION_ID") ? fields.at("VERSION_ID") : "";
    d.image_file = d.flatcar_layout ? r.name + ".raw"
                                    : sysupdate_image_file(r.name, r.version, r.architecture);
    const std::string stem = without_raw(d.image_file);
    if (!r.ddi)
        for (const auto& sidecar : r.sidecars)
            if (sidecar != r.image)
                d.sidecar_suffixes.push_back(sidecar.substr(without_raw(r.image).size()));
    // .verity, .roothash, .roothash.p7s: shortest first, whatever order they came in.
    std::sort(d.sidecar_suffixes.begin(), d.sidecar_suffixes.end(),
              [](const std::string& a, const std::string& b) {
                  return a.size() != b.size() ? a.size() < b.size() : a < b;
              });
    d.on_update = r.on_update.empty() ? "refresh" : r.on_update;
    if (d.on_update != "refresh" && d.on_update != "reboot-required")
        throw_usage("--on-update " + quote_untrusted(d.on_update) +
                    ": refresh or reboot-required");
    // The signing key first: a key gpg cannot use fails before anything is copied.
    if (r.gpg.enabled())
        d.sha256sums_key = gpg_fingerprint(r.gpg);
    else
        result.warnings.push_back("no --gpg-key: SHA256SUMS is not signed and the sysupdate "
                                  "transfers say Verify=no");
    result.image_file = d.image_file;
    if (r.base_url.empty())
        result.warnings.push_back("no --base-url: the sysupdate and Butane files say " +
                                  std::string(k_base_url_placeholder) +
                                  " where the download URL belongs");

    ReleaseDir dir(r.release_dir + "/" + r.target, release_name(r.name, r.version, r.architecture));
    std::map<std::string, std::string> deployment;
    if (r.gpg.enabled()) {
        deployment["sha256sums_signature"] = "SHA256SUMS.gpg";
        deployment["sha256sums_signing_key"] = d.sha256sums_key;
    }

    // The image and what belongs to it, renamed after the image.
    reporter.stage("publishing: copying the image");
    dir.add_copy(d.image_file, r.image, reporter);
    const std::string built_stem = without_raw(r.image);
    for (const auto& sidecar : r.sidecars) {
        if (sidecar == r.image)
            continue;
        if (!starts_with(sidecar, built_stem + "."))
            throw_usage("cannot publish: " + sidecar + " is not named after " + r.image);
        dir.add_copy(stem + sidecar_file_suffix(d, sidecar.substr(built_stem.size())), sidecar);
    }
    if (!r.payload.empty()) {
        dir.add_copy(stem + ".gz", r.payload);
        if (!r.payload_hash_file.empty()) {
            dir.add_copy(stem + ".gz.hash", r.payload_hash_file);
            result.warnings.push_back(
                "the update payload is unsigned: sign " + stem +
                ".gz.hash elsewhere and `payload attach` before Flatcar hosts accept it");
        }
    }
    source::LockFile lock;
    if (!r.lock.empty()) {
        lock = source::LockFile::read(r.lock);
        dir.add_copy(stem + ".lock.json", r.lock);
    }

    // How hosts install it.
    if (!d.flatcar_layout) {
        std::string transfers;
        for (const auto& f : transfer_files(d)) {
            dir.add(f.name, f.content);
            transfers += (transfers.empty() ? "" : " ") + f.name;
        }
        deployment["sysupdate_transfers"] = transfers;
        std::string units;
        for (const auto& u : update_units(d)) {
            dir.add(u.name, u.content);
            units += (units.empty() ? "" : " ") + u.name;
        }
        deployment["update_units"] = units;
    }
    std::vector<std::string> variants;
    if (os_id == "flatcar" || os_id == "_any")
        variants.push_back("flatcar");
    if (os_id == "fedora" || os_id == "_any")
        variants.push_back("fcos");
    if (variants.empty())
        result.warnings.push_back("no Butane snippet: the image is for ID=" + os_id +
                                  " hosts, neither Flatcar nor Fedora CoreOS");
    if (!variants.empty()) {
        reporter.stage("publishing: hashing for Butane");
        std::map<std::string, std::string> sha512;
        sha512[d.image_file] = sha512_file_hex(dir.staging_path() + "/" + d.image_file);
        for (const auto& suffix : d.sidecar_suffixes)
            sha512[stem + sidecar_file_suffix(d, suffix)] =
                sha512_file_hex(dir.staging_path() + "/" + stem + sidecar_file_suffix(d, suffix));
        for (const auto& v : variants) {
            dir.add(r.name + "." + v + ".bu", butane_snippet(d, v, sha512));
            deployment["butane_" + v] = r.name + "." + v + ".bu";
        }
    }

    // What is inside.
    reporter.stage("publishing: contents reports");
    Reports reports = contents_reports(dir.staging_path() + "/" + d.image_file, r.ddi);
    dir.add("contents.txt", reports.listing);
    dir.add("usage.txt", reports.usage);
    std::vector<pipeline::BuiltInput> packages;
    for (const auto& e : lock.entries())
        packages.push_back({e.name, e.version, e.sha256});
    dir.add("components.txt",
            "# " + r.name + " " + r.version + " (" + r.target + ", " + r.architecture +
                "): component NAME VERSION, package NAME VERSION SHA256, tab-separated\n" +
                inspect::components_listing(r.components, packages));

    // What went in and came out, then the checksums of everything.
    std::vector<PublishedFile> outputs;
    for (const auto& f : dir.files())
        outputs.push_back({f.name, f.size, f.sha256});
    ManifestInputs mi{r,
                      d.image_file,
                      r.profile.empty() ? "" : to_hex(sha256_file(r.profile)),
                      lock.entries(),
                      outputs,
                      deployment};
    dir.add("manifest.json", manifest(mi).dump(2) + "\n");
    outputs.clear();
    for (const auto& f : dir.files())
        outputs.push_back({f.name, f.size, f.sha256});
    const std::string sums = sha256sums(outputs);
    dir.add("SHA256SUMS", sums);
    if (r.gpg.enabled()) {
        reporter.stage("publishing: signing SHA256SUMS with gpg");
        dir.add_signature("SHA256SUMS.gpg", gpg_detach_sign(r.gpg, sums, "SHA256SUMS"));
    }

    reporter.stage("publishing: renaming into place");
    result.already_published = dir.commit() == CommitOutcome::AlreadyPublished;
    result.path = dir.final_path();
    for (const auto& f : dir.files())
        result.files.push_back({f.name, f.size, f.sha256});
    return result;
}

} // namespace sysext::publish

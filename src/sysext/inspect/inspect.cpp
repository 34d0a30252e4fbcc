// Detects what a file is and inspects it; the release-metadata rules follow
// systemd's extension-release.c as described in shared/specs/sysext.md.
#include "sysext/inspect/inspect.hpp"

#include "payload/describe.hpp"
#include "payload/verifier.hpp"
#include "sysext/validate/host_overlay.hpp"
#include "signing/key.hpp"
#include "sysext/ddi/gpt.hpp"
#include "sysext/image/reader.hpp"
#include "sysext/inspect/contents.hpp"
#include "sysext/inspect/image_checks.hpp"
#include "sysext/release/release.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/reporter.hpp"
#include "sysext/util/strings.hpp"
#include "sysext/verity/release_probe.hpp"

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <optional>

namespace sysext::inspect {

namespace {

constexpr std::string_view k_release_dir = "usr/lib/extension-release.d/";
constexpr std::string_view k_release_prefix = "extension-release.";
constexpr uint64_t k_max_release_bytes = 64 * 1024;

std::string detect_kind(const std::string& path) {
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    unsigned char head[8] = {};
    size_t n = pread_full(fd.get(), head, sizeof head, 0, path);
    if (n >= 4 && std::memcmp(head, "hsqs", 4) == 0)
        return "squashfs";
    if (n >= 4 && std::memcmp(head, "CrAU", 4) == 0)
        return "payload";
    if (ddi::looks_like_gpt(fd.get()))
        return "disk-image";
    if (image::sniff_format(fd.get(), path) == image::Format::Erofs)
        return "erofs";
    std::string found = "the file is empty";
    if (n > 0) {
        found = "it starts with";
        for (size_t i = 0; i < n; ++i) {
            char hex[4];
            std::snprintf(hex, sizeof hex, " %02x", head[i]);
            found += hex;
        }
        found += " " + quote_untrusted(std::string_view(reinterpret_cast<char*>(head), n));
    }
    throw_input(path +
                ": not a squashfs or EROFS image, GPT disk image or Flatcar update payload (" +
                found + ")");
}

// systemd reads extension-release.NAME for NAME.raw; see verity/release_probe.hpp
// for the versioned-name prefix it also accepts.
bool release_matches(const std::string& suffix, const std::string& image_name) {
    std::string prefix = image_name.substr(0, image_name.find_first_of("_+"));
    return suffix == image_name || suffix == prefix;
}

void read_releases(Inspection& r) {
    for (const auto& e : r.listing.entries) {
        if (!starts_with(e.path, k_release_dir))
            continue;
        std::string name = e.path.substr(k_release_dir.size());
        if (name.find('/') != std::string::npos || !starts_with(name, k_release_prefix))
            continue;
        ReleaseFile file;
        file.name = name;
        std::string suffix = name.substr(k_release_prefix.size());
        file.matches_image = release_matches(suffix, r.image_name);
        // systemd takes a differently named file when it is marked non-strict.
        auto strict = e.xattrs.find("user.extension-release.strict");
        bool lenient = false; // systemd's parse_boolean() says false
        if (strict != e.xattrs.end())
            for (const char* w : {"0", "no", "n", "false", "f", "off"})
                lenient = lenient || strict->second == w;
        if (e.type != 'f') {
            r.notes.push_back(printable(e.path) + ": not a regular file; not read");
        } else {
            try {
                std::string text = image::read_image_file(r.path, e.path, k_max_release_bytes,
                                                             r.image_offset, r.image_size);
                file.fields = release::parse(text, e.path);
            } catch (const Error& err) {
                r.problems.push_back(std::string("release: ") + err.what());
            }
        }
        if (!file.matches_image && lenient) {
            file.matches_image = true;
            r.notes.push_back(
                printable(name) +
                ": name differs from the image's, accepted: user.extension-release.strict=0");
        }
        r.releases.push_back(std::move(file));
    }
}

void check_release_rules(Inspection& r) {
    const std::string wanted =
        std::string(k_release_dir) + std::string(k_release_prefix) + r.image_name;
    if (r.releases.empty()) {
        r.problems.push_back("release: no " + wanted + " in the image; systemd-sysext refuses it");
        return;
    }
    const ReleaseFile* chosen = nullptr;
    for (const auto& f : r.releases)
        if (f.matches_image && chosen == nullptr)
            chosen = &f;
    if (chosen == nullptr) {
        std::string names;
        for (const auto& f : r.releases)
            names += (names.empty() ? "" : ", ") + printable(f.name);
        r.problems.push_back(
            "release: the image holds " + names + " but systemd-sysext looks for " + wanted +
            " for an image file named " + r.image_name + ".raw; it refuses the image");
        return;
    }
    const release::Fields fields = release::to_fields(chosen->fields);
    for (auto& problem : release::check(fields, "release: " + chosen->name))
        r.problems.push_back(std::move(problem));
}

void check_layout(Inspection& r) {
    for (const auto& e : r.listing.entries) {
        if (e.path == "usr/lib/os-release")
            r.problems.push_back("usr/lib/os-release: an extension must not carry it; "
                                 "systemd-sysext refuses the image");
        if (!e.path.empty() && e.path.find('/') == std::string::npos && e.path != "usr" &&
            e.path != "opt")
            r.notes.push_back(printable(e.path) +
                              ": outside usr/ and opt/; systemd-sysext does not merge it");
    }
}

void inspect_payload(Inspection& r, const InspectOptions& o) {
    payload::PayloadDescription d = payload::describe(r.path);
    r.payload = d.data;
    r.payload_text = d.to_text(false);
    std::vector<signing::PublicKey> keys;
    for (const auto& k : o.public_keys)
        keys.push_back(signing::PublicKey::load_pem(k));
    if (!o.cert.empty())
        keys.push_back(signing::PublicKey::load_pem(o.cert));
    // Without keys, every check but the signatures' keys: a payload a host would
    // refuse for its structure, its sizes or its data is never called ok.
    payload::VerifyOptions vo;
    vo.payload = r.path;
    vo.public_keys = keys;
    vo.structure_only = keys.empty();
    try {
        payload::VerifyResult v = payload::verify_payload(vo, null_reporter());
        nlohmann::json matches = nlohmann::json::array();
        for (const auto& m : v.matches)
            matches.push_back({{"key", m.key}, {"signature_version", m.version}});
        if (keys.empty())
            r.payload["verification"] = {
                {"status", "structure checked"},
                {"detail", "signatures not checked: no --public-key or --cert given"},
                {"checks", v.checks}};
        else
            r.payload["verification"] = {
                {"status", "verified"}, {"checks", v.checks}, {"matches", matches}};
        if (v.unsigned_payload)
            r.problems.push_back("payload: unsigned: a host refuses it until signatures are "
                                 "attached (payload hash, then payload attach)");
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Verify)
            throw;
        r.payload["verification"] = {{"status", "failed"}, {"detail", e.what()}};
        r.problems.push_back(std::string("payload: ") + e.what());
    }
}

// The release file systemd would read for this image, or null.
const ReleaseFile* matching_release(const Inspection& r) {
    for (const auto& f : r.releases)
        if (f.matches_image)
            return &f;
    return nullptr;
}

void match_host(Inspection& r, const InspectOptions& o) {
    release::KeyValues host = release::parse(read_file(o.os_release), o.os_release);
    r.host_arch = o.host_arch.empty() ? release::running_architecture() : o.host_arch;
    const ReleaseFile* ext = matching_release(r);
    r.host =
        release::match_host(ext ? ext->fields : release::KeyValues{}, host, r.host_arch, o.scope);
    r.host_checked = true;
    if (!r.host.accepted)
        r.problems.push_back("host: " + o.os_release + ": " + r.host.reason);
}

} // namespace

void inspect_contents(Inspection& r, uint64_t offset, uint64_t size) {
    r.image_offset = offset;
    r.image_size = size;
    try {
        r.listing = image::read_image(r.path, offset, size);
        r.contents_read = true;
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Input)
            throw;
        r.problems.push_back(std::string("contents: ") + e.what());
        return;
    }
    read_releases(r);
    check_release_rules(r);
    check_layout(r);
}

Inspection inspect(const InspectOptions& o) {
    Inspection r;
    r.path = o.path;
    r.kind = detect_kind(o.path);
    if (r.kind == "payload") {
        inspect_payload(r, o);
        return r;
    }
    std::optional<signing::Certificate> cert;
    if (!o.cert.empty())
        cert = signing::Certificate::load(o.cert);
    r.image_name = release::name_from_image_file(o.path);
    if (!ends_with(o.path, ".raw"))
        r.problems.push_back(o.path + ": systemd-sysext only picks up images named NAME.raw");
    if (r.kind == "squashfs" || r.kind == "erofs") {
        inspect_contents(r, 0, 0);
        check_sidecars(r, cert ? &*cert : nullptr);
    } else {
        inspect_disk_image(r, cert ? &*cert : nullptr);
    }
    if (!o.os_release.empty())
        match_host(r, o);
    if (!o.host_files.empty() && r.contents_read) {
        std::vector<std::string> paths;
        for (const auto& e : r.listing.entries)
            if (e.type != 'd')
                paths.push_back(e.path);
        validate::HostOverlay overlay =
            validate::host_overlay(paths, validate::read_host_listing(o.host_files));
        r.overlays_checked = true;
        r.host_overlays = overlay.files;
        if (std::string text = validate::describe(overlay, o.host_files); !text.empty())
            r.notes.push_back("the image " + text);
    }
    return r;
}

} // namespace sysext::inspect

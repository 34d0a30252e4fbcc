// `sysext-build inspect`: what a file is and whether a systemd host would take
// it, without mounting anything. The file's kind comes from its magic, never
// its name: a squashfs image ("hsqs"), an EROFS image (0xE0F5E1E2 at byte
// 1024), a GPT disk image ("EFI PART" in LBA 1,
// our DDI: usr, usr-verity and usr-verity-sig partitions) or a Flatcar update
// payload ("CrAU").
//
// For images: the file system's summary and contents (image/reader.hpp), the extension-release
// file(s) and what systemd-sysext would refuse (no release file, a release
// name that does not match the image file name, ID missing, an unknown
// ARCHITECTURE, usr/lib/os-release present; with a host's os-release, whether
// that host would merge it: release/host_match.hpp), and the dm-verity tree and PKCS#7
// signature (sidecars NAME.roothash, NAME.verity, NAME.roothash.p7s next to a
// bare image, or the partitions of a disk image) checked against the root hash.
// For payloads: payload/describe's account, checked by payload/verifier when a
// key is given.
#pragma once

#include "sysext/inspect/signature.hpp"
#include "sysext/release/host_match.hpp"
#include "sysext/image/entry.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace sysext::inspect {

struct InspectOptions {
    std::string path;
    std::string cert; // trust: images must be signed by it; payloads checked with its key
    std::vector<std::string> public_keys; // payload public keys (PEM)
    // A host to match images against, as systemd-sysext would: its os-release
    // file ("" = no host check), architecture ("" = this machine's) and scope.
    std::string os_release;
    std::string host_arch;
    std::string scope = "system";
    // A listing of a typical host's files (profiles/base/*.files): report the
    // image's files it names, which replace the host's while merged.
    std::string host_files;
};

struct ReleaseFile {
    std::string name; // "extension-release.podman"
    std::map<std::string, std::string> fields;
    bool matches_image = false; // the one systemd would read for this image file name
};

struct Partition {
    std::string name, type, uuid;
    uint64_t offset = 0, size = 0;
};

struct VerityStatus {
    std::string status = "none"; // "verified", "failed" or "none" (unsigned)
    std::string root_hash;
    std::string detail;
};

struct Inspection {
    std::string path;
    std::string kind;       // "squashfs", "erofs", "disk-image" or "payload"
    std::string image_name; // the extension name systemd derives from the file name
    // Images: the file system (for a disk image, its root partition's).
    bool contents_read = false;
    image::ImageListing listing;
    uint64_t image_offset = 0, image_size = 0;
    std::vector<ReleaseFile> releases;
    std::vector<Partition> partitions;
    VerityStatus verity;
    SignatureStatus signature;
    // With InspectOptions::os_release: would that host merge the image, and why.
    bool host_checked = false;
    // With InspectOptions::host_files: the image's files that listing names.
    bool overlays_checked = false;
    std::vector<std::string> host_overlays;
    std::string host_arch;
    release::HostMatch host;
    // Payloads: describe's data; "verification" added when a key was given.
    nlohmann::json payload;
    std::string payload_text;          // describe's readable account
    std::vector<std::string> notes;    // worth knowing, not a reason to refuse
    std::vector<std::string> problems; // a failed check, or why systemd would refuse the image

    bool ok() const { return problems.empty(); }
};

// Throws Input when the file is none of these kinds (naming its magic).
Inspection inspect(const InspectOptions& options);

// The report as one JSON object: kind, release, contents, verity, signature,
// problems (and partitions, payload where they apply).
nlohmann::json to_json(const Inspection& r, size_t largest = 10);
// A readable summary.
std::string to_text(const Inspection& r, size_t largest = 10);

} // namespace sysext::inspect

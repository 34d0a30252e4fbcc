// Deployment files of a release: a systemd-sysupdate transfer definition and a
// Butane snippet that installs the image (and, for sysupdate layouts, the
// transfer and a timer) on Flatcar Container Linux or Fedora CoreOS.
//
// sysupdate.d(5): [Source] Type=url-file needs Path= (the directory holding
// SHA256SUMS) and MatchPattern= with @v; [Target] Type=regular-file needs Path=
// and MatchPattern=; CurrentSymlink= is made to point at the newest version;
// InstancesMax= is at least 2. %a expands to the host's architecture in
// systemd's names, the names images carry. Layouts (shared/specs/sysext.md):
// community extensions live in /opt/extensions/NAME/NAME-VERSION-ARCH.raw with
// /etc/extensions/NAME.raw linked to the current one; Flatcar's own extensions
// in /etc/flatcar/sysext/flatcar-NAME-VERSION.raw linked from
// /etc/extensions/flatcar-NAME.raw.
//
// Butane: variant flatcar 1.0.0 (Ignition 3.3.0) and fcos 1.5.0 (Ignition
// 3.4.0); verification hashes are sha512, which every Ignition 3.x accepts.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sysext::publish {

// Where and how an image is deployed.
struct Deployment {
    std::string name; // extension name (what /etc/extensions/NAME.raw shows)
    std::string version;
    std::string architecture;    // systemd's name
    std::string image_file;      // file name in the release (and on the server)
    std::string base_url;        // where the release's files are served; "" = placeholder
    bool flatcar_layout = false; // /etc/flatcar/sysext, no sysupdate
    std::string os_version;      // VERSION_ID, for the Flatcar layout's file name
    int instances_max = 3;
    // Signature sidecars that travel with the image, as systemd-sysext names
    // them next to NAME.raw (".verity", ".roothash", ".roothash.p7s"), each
    // with a transfer of its own; empty for unsigned images and signed disk
    // images. Served and installed under sidecar_file_suffix's names.
    std::vector<std::string> sidecar_suffixes;
    // After an update: "refresh" the merged extensions at once, or
    // "reboot-required" (touch /run/reboot-required for a reboot manager).
    std::string on_update = "refresh";
    // The fingerprint of the OpenPGP key that signs SHA256SUMS (SHA256SUMS.gpg):
    // the transfers say Verify=yes; "" = unsigned, Verify=no.
    std::string sha256sums_key;
};

struct DeploymentFile {
    std::string name; // in the release directory
    std::string content;
};

// Written in place of the base URL when none was given; the user replaces it.
inline constexpr const char* k_base_url_placeholder = "@BASE_URL@";

// The suffix a sidecar is published and installed under (NAME-VERSION-ARCH
// plus it), given systemd-sysext's (the link's in /etc/extensions).
// systemd-sysupdate (257 in Debian 13; systemd issue 38605, fixed in 2026)
// takes a MatchPattern= as matching any name that begins with it: NAME-@v-%a.roothash
// matches NAME-V-A.roothash.p7s too, in SHA256SUMS (the signature was
// downloaded as the root hash) and among the installed files. So the signature
// travels as NAME-V-A.p7s, which no other sidecar's pattern begins, and only
// its link is NAME.roothash.p7s, where systemd-sysext reads it. The Flatcar
// layout (no sysupdate) keeps systemd-sysext's names.
std::string sidecar_file_suffix(const Deployment& d, const std::string& suffix);

// "NAME-@v-%a.raw": the sysupdate match pattern of community images.
std::string match_pattern(const std::string& name);
// "NAME-VERSION-ARCH.raw".
std::string sysupdate_image_file(const std::string& name, const std::string& version,
                                 const std::string& architecture);

// The transfer files for /etc/sysupdate.NAME.d/: NAME.conf for the image
// (every systemd-sysupdate reads *.conf; only 257 and later read *.transfer),
// then NAME-verity.conf, NAME-roothash.conf, NAME-roothash-p7s.conf for the
// sidecars, each linked next to /etc/extensions/NAME.raw as CurrentSymlink
// under systemd-sysext's name.
std::vector<DeploymentFile> transfer_files(const Deployment& d);
// The image's transfer (the first of transfer_files).
std::string transfer_file(const Deployment& d);
// sysext-update-NAME.service and .timer: the update of this one component,
// daily, with a refresh (or a reboot request) when a new version arrived. Not
// systemd-sysupdate.service: it updates /etc/sysupdate.d, and fails on hosts
// that have no transfers there.
std::vector<DeploymentFile> update_units(const Deployment& d);
// The Butane snippet; variant "flatcar" or "fcos". sha512_hex maps each file
// the snippet downloads (the image, its sidecars) to its SHA-512.
std::string butane_snippet(const Deployment& d, const std::string& variant,
                           const std::map<std::string, std::string>& sha512_hex);

} // namespace sysext::publish

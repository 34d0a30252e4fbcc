// Publishing a build: a release directory RELEASE_DIR/TARGET/NAME-VERSION-ARCH/
// holding the image under the name systemd-sysupdate expects, its signature
// sidecars, the Flatcar payload, the lock file, deployment files (sysupdate .conf,
// Butane), contents reports, manifest.json and SHA256SUMS, written atomically
// (release_dir.hpp). Publishing the same bytes again is accepted; other bytes
// under an existing release name are refused.
//
// Names in the release (the image stem is what systemd-sysext sees through
// /etc/extensions/NAME.raw, see sysupdate.hpp):
//   NAME-VERSION-ARCH.raw, .verity, .roothash, .p7s   community layout (.p7s: the
//                                    root hash signature, NAME.roothash.p7s on hosts)
//   flatcar-NAME.raw, flatcar-NAME.gz                            Flatcar (ID=flatcar)
//   NAME-VERSION-ARCH.lock.json      the exact inputs, for `build --lock`
//   NAME.conf, NAME-SIDECAR.conf     systemd-sysupdate transfers (not for Flatcar's layout)
//   sysext-update-NAME.service/.timer  the component's own update, then a refresh
//   NAME.flatcar.bu, NAME.fcos.bu    Butane snippets for the hosts the image fits
//   contents.txt, usage.txt, components.txt                      reports
//   manifest.json                    every input and output with its SHA-256
//   SHA256SUMS                       every other file, as `sha256sum -c` reads it
//   SHA256SUMS.gpg                   its detached OpenPGP signature, with a GnuPG key
//                                    (gpg.hpp); the transfers then say Verify=yes
#pragma once

#include "sysext/publish/gpg.hpp"
#include "sysext/util/reporter.hpp"

#include <map>
#include <string>
#include <vector>

namespace sysext::publish {

struct PublishRequest {
    std::string release_dir; // parent of the per-target directories
    std::string base_url;    // where the files will be served; "" = placeholder
    std::string on_update;   // "refresh" ("" too) or "reboot-required": after a host update
    std::string name, version, architecture, target;
    std::string profile;                            // the profile file
    std::string image;                              // the built image (bare squashfs or disk image)
    bool ddi = false;                               // the image is a signed disk image
    std::vector<std::string> sidecars;              // NAME.verity, NAME.roothash, NAME.roothash.p7s
    std::string payload, payload_hash_file;         // Flatcar update payload, when made
    std::string lock;                               // the build's lock file
    std::string release_text;                       // the extension-release file
    std::map<std::string, std::string> components;  // component -> package version
    std::string root_hash, certificate_fingerprint; // when signed
    GpgSigner gpg;                                  // signs SHA256SUMS when given
};

struct PublishedFile {
    std::string name;
    uint64_t size = 0;
    std::string sha256;
};

struct PublishResult {
    std::string path;               // the release directory
    bool already_published = false; // an identical release was there
    std::string image_file;         // the image's name in it
    std::vector<PublishedFile> files;
    std::vector<std::string> warnings;
};

// The release directory's name for a build: NAME-VERSION-ARCH (the image stem).
std::string release_name(const std::string& name, const std::string& version,
                         const std::string& architecture);

// Throws Usage unless URL is empty or a plain http://, https:// or file:/// URL
// that can stand in the sysupdate transfers and the Butane YAML as it is.
void check_base_url(const std::string& url);

PublishResult publish(const PublishRequest& request, Reporter& reporter);

} // namespace sysext::publish

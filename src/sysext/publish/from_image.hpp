// `sysext-build publish IMAGE`: a release directory from an image built (and
// perhaps signed) earlier, for keys kept away from the build machine: build
// unsigned, sign the image elsewhere (`sysext-build sign`), publish it here.
//
// What a build would know comes from the image itself (inspect): the extension
// name from its one extension-release file, the architecture from its
// ARCHITECTURE, the version from SYSEXT_VERSION_ID unless given, the root hash
// and the signer's certificate from the sidecars next to a bare image or the
// partitions of a disk image. An image whose signature does not verify, or
// that systemd-sysext would refuse, is not published.
#pragma once

#include "sysext/publish/publish.hpp"

#include <string>

namespace sysext::publish {

struct PublishImageOptions {
    std::string image;
    std::string release_dir, base_url, on_update;
    std::string target;                     // the release's target directory (required)
    std::string version;                    // "" = the image's SYSEXT_VERSION_ID
    std::string architecture;               // "" = the image's ARCHITECTURE
    std::string lock;                       // the build's lock file (optional)
    std::string profile;                    // the profile it was built from (optional)
    std::string payload, payload_hash_file; // a Flatcar payload of the image (optional)
    std::string cert; // a signed image must verify with this certificate (optional)
    GpgSigner gpg;    // signs SHA256SUMS (optional)
};

PublishResult publish_image(const PublishImageOptions& options, Reporter& reporter);

} // namespace sysext::publish

// manifest.json and SHA256SUMS of a release directory.
//
// manifest.json records what went in (the profile, every locked input with its
// source, version and SHA-256) and what came out (every other file of the
// release with its size and SHA-256), with the extension-release fields, the
// components' package versions and the signature. Keys are sorted and nothing
// depends on the time or the machine, so a rebuild from the same inputs gives
// the same bytes. SHA256SUMS follows sha256sum(1) ("HASH  NAME", sorted by
// name), which is also the manifest format systemd-sysupdate reads.
#pragma once

#include "sysext/publish/publish.hpp"
#include "sysext/source/lock.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sysext::publish {

struct ManifestInputs {
    const PublishRequest& request;
    std::string image_file;
    std::string profile_sha256;
    std::vector<source::LockEntry> locked;
    std::vector<PublishedFile> outputs; // every file but manifest.json and SHA256SUMS
    std::map<std::string, std::string>
        deployment; // role -> file name ("transfer", "butane-flatcar", ...)
};

nlohmann::json manifest(const ManifestInputs& in);
std::string sha256sums(const std::vector<PublishedFile>& files);

} // namespace sysext::publish

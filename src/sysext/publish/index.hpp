// A served index: one directory holding every version and architecture of an
// extension (or several) with one SHA256SUMS, and its signature SHA256SUMS.gpg,
// as a systemd-sysupdate url-file source reads it (Path= names the directory;
// MatchPattern=NAME-@v-%a.raw picks the newest version for the host's
// architecture among the names SHA256SUMS lists).
//
// Adding releases (release directories that `build --release-dir` or
// `publish` wrote, each checked against its own SHA256SUMS first):
//   - images, sidecars, payloads, lock files, the sysupdate transfers
//     (NAME*.conf) and update units (sysext-update-NAME.*) keep their names:
//     they carry name, version and architecture, or are the same for every
//     release of an extension (two releases with different bytes under one such
//     name are refused); the other per-release files get the release's name as a
//     prefix (NAME-VERSION-ARCH.manifest.json, ...);
//   - a name the index (or the SHA256SUMS published where it is served, given
//     as `published`) lists with other bytes is refused: a published version
//     never changes; the same bytes are accepted and add nothing;
//   - nothing new, nothing written: SHA256SUMS and its signature keep their
//     bytes (a rebuild whose inputs did not change publishes nothing new).
//
// Atomicity: the index is locked (flock on the directory) while a run works
// in it, and first removes the temporaries killed runs left; every new file and the new SHA256SUMS and SHA256SUMS.gpg are written
// under temporary names (AtomicFile) and flushed before any is renamed. Then
// the new files are renamed into place (no SHA256SUMS lists them yet), then
// SHA256SUMS.gpg, then SHA256SUMS. Any error before that (a refused name, a key
// gpg cannot use, a full disk, a signal) leaves the index as it was. Between
// the last two renames a reader may see a signature of the next list; a run
// killed exactly there leaves that state, and the next run (the same command
// again) notices the signature does not match and signs again.
#pragma once

#include "sysext/publish/gpg.hpp"
#include "sysext/util/reporter.hpp"

#include <map>
#include <string>
#include <vector>

namespace sysext::publish {

struct IndexOptions {
    std::string index;                 // the served directory (created if missing)
    std::vector<std::string> releases; // release directories, or directories of TARGET/RELEASE/
    std::string published;             // SHA256SUMS already served (optional)
    GpgSigner gpg;                     // signs SHA256SUMS; required once the index is signed
};

struct IndexResult {
    std::string path;
    size_t releases = 0;
    std::vector<std::string> added; // files new to the index, sorted
    size_t entries = 0;             // lines of SHA256SUMS
    bool changed = false;           // SHA256SUMS (or its signature) written
    bool is_signed = false;         // SHA256SUMS.gpg is there and current
};

IndexResult add_to_index(const IndexOptions& options, Reporter& reporter);

// NAME -> SHA-256 (hex) of a SHA256SUMS text ("HASH  NAME" or "HASH *NAME").
// Throws Input naming ORIGIN and the line for anything else.
std::map<std::string, std::string> parse_sha256sums(const std::string& text,
                                                    const std::string& origin);

} // namespace sysext::publish

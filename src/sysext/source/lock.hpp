// The lock file: every input of a build, recorded exactly, so that a later
// build can fetch exactly the same bytes without consulting any index.
//
// JSON, written next to an output:
//   {"sysext-build-lock": 1,
//    "inputs": [{"kind": "deb", "name": "podman", "version": "5.4.2+ds1-1",
//                "architecture": "amd64", "url": "MIRROR/pool/main/...deb",
//                "filename": "pool/main/...deb", "sha256": "...", "size": 123}]}
// and "build": {"architecture": "x86-64", "compression": "zstd:15", "mtime":
// "1700000000", "profile": "podman", "profile_sha256": "...", "target":
// "debian", ...}: every setting the image's bytes depend on besides the inputs,
// so that `build --lock FILE` alone rebuilds the same bytes anywhere.
// "kind" says what the entry is ("deb" from a Debian archive, "url" for a plain
// download); "filename" is the path under a Debian mirror, so a lock can be
// replayed against another mirror. Entries are kept sorted by kind, name and
// architecture, so the same inputs always give the same bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sysext::source {

struct LockEntry {
    std::string kind; // "deb", "url"
    std::string name;
    std::string version;      // "" when the kind has none
    std::string architecture; // "" when the kind has none
    std::string url;
    std::string filename; // "deb": relative to the mirror
    std::string sha256;
    uint64_t size = 0;

    // Where to fetch the entry: mirror + "/" + filename when a mirror is given
    // and the entry has a filename, else its url.
    std::string source_url(const std::string& mirror = "") const;
    bool operator==(const LockEntry&) const = default;
};

class LockFile {
public:
    // Adds an entry; an entry with the same kind, name and architecture must be
    // identical (Input error otherwise).
    void add(LockEntry entry);
    const std::vector<LockEntry>& entries() const { return m_entries; }
    // The build's settings (strings, sorted by key).
    void set(const std::string& key, const std::string& value) { m_settings[key] = value; }
    void erase(const std::string& key) { m_settings.erase(key); }
    const std::map<std::string, std::string>& settings() const { return m_settings; }

    std::string to_json() const;
    // Throws Input "<origin>: <where>: <cause>", suggesting the nearest key for a typo.
    static LockFile parse(const std::string& text, const std::string& origin);

    static LockFile read(const std::string& path);
    void write(const std::string& path) const; // atomically

private:
    std::vector<LockEntry> m_entries;
    std::map<std::string, std::string> m_settings;
};

} // namespace sysext::source

// A Debian archive's signed Release file (InRelease) and its check with gpgv.
//
// The repository format (wiki.debian.org/DebianRepository/Format): InRelease is
// the Release file, clear-signed. gpgv checks the signature against a keyring
// and writes out exactly the text it verified; only that text is parsed, so an
// unsigned part of the file can never be read as if it were signed. The
// SHA256 list pins every index (Packages.xz, ...) that is fetched afterwards.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sysext::source {

inline constexpr const char* k_debian_keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

struct IndexFile {
    std::string sha256;
    uint64_t size = 0;
};

struct ReleaseFile {
    std::string suite;
    std::string codename;
    std::vector<std::string> architectures;
    std::vector<std::string> components;
    bool acquire_by_hash = false;
    // "No-Support-for-Architecture-all: Packages": the binary-ARCH indices list
    // the Architecture: all packages too, so binary-all is not needed.
    bool all_in_arch_indices = false;
    std::string valid_until;                 // RFC 2822 date, "" when the archive sets none
    std::map<std::string, IndexFile> sha256; // "main/binary-amd64/Packages.xz" -> hash, size
};

// Parses verified Release text; throws Input naming `origin` when fields are missing.
ReleaseFile parse_release(const std::string& text, const std::string& origin);

// Refuses a Release whose Valid-Until is before `now` (seconds since the epoch):
// an old but correctly signed Release must not bring back old packages.
// Throws Verify naming `origin` and the date; Input when the date is unreadable.
void check_valid_until(const ReleaseFile& release, int64_t now, const std::string& origin);

// Checks the clear-signed `inrelease` bytes with `gpgv --keyring KEYRING` and
// returns the signed text. Throws Verify "<origin>: signature check failed:
// <gpgv's verdict>" when gpgv refuses it.
std::string verify_inrelease(const std::string& inrelease, const std::string& keyring,
                             const std::string& origin);

} // namespace sysext::source

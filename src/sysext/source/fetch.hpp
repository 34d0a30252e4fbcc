// Downloads with a mandatory SHA-256 pin, into a cache addressed by content.
//
// A pinned download streams into a temporary file in the cache directory while
// it is hashed; only when the hash (and the size, when known) match is it renamed
// to <cache>/<sha256>. A cache entry is hashed again before every use and is
// never used when it does not match: it is fetched again. The only unpinned
// downloads are small, signed metadata (a Debian InRelease file) that the caller
// verifies itself; they stay in memory and never enter the cache.
//
// URLs may be http://, https:// or file:// (libcurl); redirects may only lead to
// http or https.
#pragma once

#include "sysext/util/error.hpp"
#include "sysext/util/reporter.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace sysext::source {

// $XDG_CACHE_HOME/sysext-build/downloads, else $HOME/.cache/sysext-build/downloads.
std::string default_download_cache();

struct FetchOptions {
    std::string cache_dir;                 // "" means default_download_cache()
    uint64_t max_size = uint64_t{4} << 30; // a bigger download is refused
    Reporter* reporter = nullptr;          // progress and warnings; null for none
};

// A download the server answered with an HTTP error status (404, 403, ...): an
// Io error whose status callers may turn into a statement about the input.
class HttpStatusError : public Error {
public:
    HttpStatusError(long status, const std::string& what)
        : Error(ErrorKind::Io, what), m_status(status) {}
    long status() const { return m_status; }

private:
    long m_status;
};

struct FetchResult {
    std::string path; // <cache>/<sha256>: read it, do not modify it
    uint64_t size = 0;
    bool from_cache = false; // true when no download was needed
};

class Fetcher {
public:
    explicit Fetcher(FetchOptions options);

    // The cache file holding the bytes whose SHA-256 is `sha256_hex`, downloading
    // `url` when the cache has no valid copy. `size`, when known, must match too.
    // Throws Verify on a mismatch, naming the URL and both hashes; Io/Input on a
    // failed transfer, naming the URL and the HTTP status or curl's cause.
    FetchResult fetch(const std::string& url, const std::string& sha256_hex,
                      std::optional<uint64_t> size = std::nullopt);

    // Downloads into memory without a pin, for signed metadata only; at most
    // max_size bytes.
    std::string fetch_unpinned(const std::string& url, uint64_t max_size);

    const std::string& cache_dir() const { return m_options.cache_dir; }

private:
    FetchOptions m_options;
    Reporter& reporter() { return m_options.reporter ? *m_options.reporter : null_reporter(); }
};

// Copies a cached file to `to` atomically, hashing while copying: the copy is
// committed only when its bytes still have `sha256_hex` (the cache could have
// changed since it was checked). Throws Verify otherwise.
void copy_verified(const std::string& from, const std::string& sha256_hex, const std::string& to);

// "abc...": lowercase, 64 hex digits; throws Input naming `what` otherwise.
std::string normalize_sha256(const std::string& hex, const std::string& what);

} // namespace sysext::source

// Pinned, content-addressed downloads over libcurl (see fetch.hpp).
#include "sysext/source/fetch.hpp"

#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"
#include "sysext/version.hpp"

#include <curl/curl.h>

#include <cstdlib>
#include <exception>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

namespace sysext::source {

namespace {

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

// Credentials in a URL never reach a message.
std::string redact(const std::string& url) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos)
        return url;
    auto host_end = url.find('/', scheme + 3);
    auto at = url.rfind('@', host_end == std::string::npos ? url.size() : host_end);
    if (at == std::string::npos || at < scheme)
        return url;
    return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
}

// What the C callbacks share with the caller. Exceptions must not cross
// libcurl's frames, so the sink's error is kept and rethrown afterwards.
struct Transfer {
    std::function<void(const char*, size_t)> sink;
    uint64_t received = 0;
    uint64_t limit = 0;
    bool too_big = false;
    std::exception_ptr error;
    Reporter* reporter = nullptr;
};

size_t on_data(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t n = size * count;
    if (n > t->limit - t->received) {
        t->too_big = true;
        return 0;
    }
    try {
        t->sink(data, n);
    } catch (...) {
        t->error = std::current_exception();
        return 0;
    }
    t->received += n;
    return n;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    t->reporter->progress(static_cast<uint64_t>(now), static_cast<uint64_t>(total));
    return 0;
}

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Runs one transfer into `t.sink`; throws naming the URL and the cause.
void transfer(const std::string& url, Transfer& t) {
    global_init();
    CurlPtr curl(curl_easy_init());
    if (!curl)
        throw Error(ErrorKind::Internal, "curl_easy_init failed");
    char errbuf[CURL_ERROR_SIZE] = {0};
    const std::string agent = std::string("sysext-build/") + k_version;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, agent.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    // A stalled mirror fails after a minute instead of hanging the build.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t.limit));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    if (t.reporter) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode rc = curl_easy_perform(c);
    if (t.error)
        std::rethrow_exception(t.error);
    const std::string where = redact(url);
    if (t.too_big || rc == CURLE_FILESIZE_EXCEEDED)
        throw_input(where + ": larger than the limit of " + std::to_string(t.limit) + " bytes");
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        throw HttpStatusError(status,
                              where + ": download failed: HTTP status " + std::to_string(status));
    }
    if (rc != CURLE_OK) {
        std::string cause = curl_easy_strerror(rc);
        if (errbuf[0] != '\0')
            cause += ": " + std::string(errbuf);
        throw Error(ErrorKind::Io, where + ": download failed: " + cause);
    }
}

} // namespace

std::string default_download_cache() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/')
        return std::string(xdg) + "/sysext-build/downloads";
    const char* home = std::getenv("HOME");
    if (!home || home[0] != '/')
        throw_usage("neither XDG_CACHE_HOME nor HOME is set: give a cache directory");
    return std::string(home) + "/.cache/sysext-build/downloads";
}

std::string normalize_sha256(const std::string& hex, const std::string& what) {
    std::string out;
    for (char ch : hex) {
        char c = (ch >= 'A' && ch <= 'F') ? static_cast<char>(ch - 'A' + 'a') : ch;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            throw_input(what + ": bad SHA-256 " + quote(hex) + " (64 hex digits expected)");
        out += c;
    }
    if (out.size() != 64)
        throw_input(what + ": bad SHA-256 " + quote(hex) + " (64 hex digits expected)");
    return out;
}

Fetcher::Fetcher(FetchOptions options) : m_options(std::move(options)) {
    if (m_options.cache_dir.empty())
        m_options.cache_dir = default_download_cache();
}

FetchResult Fetcher::fetch(const std::string& url, const std::string& sha256_hex,
                           std::optional<uint64_t> size) {
    const std::string where = redact(url);
    const std::string want = normalize_sha256(sha256_hex, where);
    if (size && *size > m_options.max_size)
        throw_input(where + ": its size of " + std::to_string(*size) +
                    " bytes is above the limit of " + std::to_string(m_options.max_size));

    std::error_code ec;
    std::filesystem::create_directories(m_options.cache_dir, ec);
    if (ec)
        throw_errno(m_options.cache_dir + ": cannot create the download cache", ec.value());

    const std::string path = m_options.cache_dir + "/" + want;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        std::string have = to_hex(sha256_file(path));
        if (have == want)
            return {path, static_cast<uint64_t>(st.st_size), true};
        reporter().warn(path + ": damaged cache entry (SHA-256 " + have + "), fetching " + where +
                        " again");
        if (::unlink(path.c_str()) != 0)
            throw_errno(path + ": cannot remove a damaged cache entry");
    }

    AtomicFile out(path, 0644);
    Sha256 hash;
    Transfer t;
    // Bounded by the general limit, not by the expected size: a file of the
    // wrong size is then reported with its actual hash, like any other mismatch.
    t.limit = m_options.max_size;
    t.reporter = m_options.reporter;
    t.sink = [&](const char* data, size_t n) {
        out.write(data, n);
        hash.update(data, n);
    };
    transfer(url, t);
    const std::string got = to_hex(hash.finish());
    if (got != want || (size && t.received != *size))
        throw_verify(where + ": SHA-256 mismatch: expected " + want +
                     (size ? " (" + std::to_string(*size) + " bytes)" : std::string()) + ", got " +
                     got + " (" + std::to_string(t.received) + " bytes)");
    out.commit();
    return {path, t.received, false};
}

std::string Fetcher::fetch_unpinned(const std::string& url, uint64_t max_size) {
    std::string data;
    Transfer t;
    t.limit = max_size;
    t.reporter = m_options.reporter;
    t.sink = [&](const char* p, size_t n) { data.append(p, n); };
    transfer(url, t);
    return data;
}

void copy_verified(const std::string& from, const std::string& sha256_hex, const std::string& to) {
    const std::string want = normalize_sha256(sha256_hex, from);
    Fd in = open_or_throw(from, O_RDONLY | O_CLOEXEC);
    AtomicFile out(to, 0644);
    Sha256 hash;
    char buf[1 << 16];
    off_t offset = 0;
    for (;;) {
        size_t n = pread_full(in.get(), buf, sizeof buf, offset, from);
        if (n == 0)
            break;
        hash.update(buf, n);
        out.write(buf, n);
        offset += static_cast<off_t>(n);
    }
    const std::string got = to_hex(hash.finish());
    if (got != want)
        throw_verify(from + ": SHA-256 mismatch: expected " + want + ", got " + got);
    out.commit();
}

} // namespace sysext::source

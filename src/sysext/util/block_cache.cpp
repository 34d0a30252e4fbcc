#include "sysext/util/block_cache.hpp"

#include "sysext/util/atomic_file.hpp"
#include "sysext/util/endian.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace sysext {

namespace {

constexpr char k_magic[8] = {'S', 'X', 'B', 'C', 'A', 'C', 'H', 'E'};
constexpr uint32_t k_version = 1;
constexpr size_t k_header_size = 84;
// A value is one compressed block or payload chunk; anything claiming more is damaged.
constexpr uint64_t k_max_value = uint64_t{64} << 20;
// A temporary file this old belongs to a writer that died.
constexpr int64_t k_stale_temp_seconds = 3600;

std::string header_for(const Digest& key, std::string_view value) {
    std::string h(k_header_size, '\0');
    auto* p = reinterpret_cast<uint8_t*>(h.data());
    std::memcpy(p, k_magic, 8);
    put_le(p + 8, k_version, 4);
    std::memcpy(p + 12, key.data(), key.size());
    put_le(p + 44, value.size(), 8);
    Digest hash = sha256(value);
    std::memcpy(p + 52, hash.data(), hash.size());
    return h;
}

struct DirCloser {
    void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

bool is_hex_name(const char* name, size_t want) {
    size_t n = std::strlen(name);
    if (n != want)
        return false;
    for (size_t i = 0; i < n; ++i)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return true;
}

struct EntryFile {
    std::string path;
    uint64_t size = 0;
    struct timespec used {};
};

// Entries (DIR/xx/KEY) and stale temporaries; files of any other name are left alone.
void list_entries(const std::string& dir, std::vector<EntryFile>& entries,
                  std::vector<std::string>* stale) {
    DirPtr top(::opendir(dir.c_str()));
    if (!top) {
        if (errno == ENOENT)
            return;
        throw_errno(dir + ": cannot read the block cache");
    }
    const int64_t now = static_cast<int64_t>(std::time(nullptr));
    while (dirent* sub = ::readdir(top.get())) {
        if (!is_hex_name(sub->d_name, 2))
            continue;
        const std::string subdir = dir + "/" + sub->d_name;
        DirPtr d(::opendir(subdir.c_str()));
        if (!d)
            continue; // removed meanwhile, or not a directory
        while (dirent* e = ::readdir(d.get())) {
            const std::string path = subdir + "/" + e->d_name;
            struct stat st {};
            if (e->d_name[0] == '.' && std::strstr(e->d_name, ".tmp-") != nullptr) {
                if (stale && ::lstat(path.c_str(), &st) == 0 &&
                    now - static_cast<int64_t>(st.st_mtim.tv_sec) > k_stale_temp_seconds)
                    stale->push_back(path);
                continue;
            }
            if (!is_hex_name(e->d_name, 64) || std::strncmp(e->d_name, sub->d_name, 2) != 0)
                continue;
            if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                continue; // pruned by another process meanwhile
            entries.push_back({path, static_cast<uint64_t>(st.st_size), st.st_mtim});
        }
    }
}

bool older(const struct timespec& a, const struct timespec& b) {
    return a.tv_sec != b.tv_sec ? a.tv_sec < b.tv_sec : a.tv_nsec < b.tv_nsec;
}

BlockCacheUsage usage_of(const std::vector<EntryFile>& entries) {
    BlockCacheUsage u;
    for (const auto& e : entries) {
        if (u.entries == 0 || e.used.tv_sec < u.oldest_use)
            u.oldest_use = e.used.tv_sec;
        u.newest_use = std::max<int64_t>(u.newest_use, e.used.tv_sec);
        u.entries++;
        u.bytes += e.size;
    }
    return u;
}

} // namespace

std::string default_block_cache() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/')
        return std::string(xdg) + "/sysext-build/blocks";
    const char* home = std::getenv("HOME");
    if (!home || home[0] != '/')
        throw_usage("neither XDG_CACHE_HOME nor HOME is set: give --cache-dir or --no-cache");
    return std::string(home) + "/.cache/sysext-build/blocks";
}

Digest block_cache_key(std::string_view context, const void* data, size_t size) {
    Sha256 h;
    // The context's length first, so no context can pass for another's prefix.
    uint8_t len[8];
    put_le(len, context.size(), 8);
    h.update(len, sizeof len);
    h.update(context);
    h.update(data, size);
    return h.finish();
}

BlockCache::BlockCache(std::string dir) : m_dir(std::move(dir)) {}

std::string BlockCache::entry_path(const Digest& key) const {
    std::string hex = to_hex(key);
    return m_dir + "/" + hex.substr(0, 2) + "/" + hex;
}

std::optional<std::string> BlockCache::get(const Digest& key) {
    const std::string path = entry_path(key);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        m_misses++;
        return std::nullopt;
    }
    auto damaged = [&]() -> std::optional<std::string> {
        m_misses++;
        m_damaged++;
        // Removed so the next store replaces it. Should a good entry have been
        // renamed over it meanwhile, that one is lost: a later miss, no harm.
        ::unlink(path.c_str());
        return std::nullopt;
    };
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_size) < k_header_size ||
        static_cast<uint64_t>(st.st_size) - k_header_size > k_max_value)
        return damaged();
    std::string bytes(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    try {
        got = pread_full(fd.get(), bytes.data(), bytes.size(), 0, path);
    } catch (const Error&) {
        return damaged();
    }
    if (got != bytes.size())
        return damaged();
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    if (std::memcmp(p, k_magic, 8) != 0 || get_le(p + 8, 4) != k_version ||
        std::memcmp(p + 12, key.data(), key.size()) != 0 ||
        get_le(p + 44, 8) != bytes.size() - k_header_size)
        return damaged();
    std::string value = bytes.substr(k_header_size);
    Digest hash = sha256(value);
    if (std::memcmp(p + 52, hash.data(), hash.size()) != 0)
        return damaged();
    // Marks it recently used; failing that (a read-only cache) only affects pruning.
    ::futimens(fd.get(), nullptr);
    m_hits++;
    return value;
}

void BlockCache::put(const Digest& key, std::string_view value) {
    const std::string path = entry_path(key);
    try {
        const std::string subdir = path.substr(0, path.rfind('/'));
        if (::mkdir(subdir.c_str(), 0755) != 0 && errno != EEXIST) {
            // The first store: the cache itself (and perhaps ~/.cache) is missing.
            std::error_code ec;
            std::filesystem::create_directories(subdir, ec);
            if (ec)
                throw_errno(subdir + ": cannot create a block cache directory", ec.value());
        }
        AtomicFile out(path, 0644, AtomicFile::Sweep::None);
        out.write(header_for(key, value));
        out.write(value.data(), value.size());
        out.commit();
        m_stored++;
    } catch (const Error& e) {
        m_store_failures++;
        std::lock_guard lock(m_error_mutex);
        if (m_first_error.empty())
            m_first_error = e.what();
    }
}

void BlockCache::reject(const Digest& key) {
    m_hits--;
    m_misses++;
    m_damaged++;
    ::unlink(entry_path(key).c_str());
}

BlockCacheCounters BlockCache::counters() const {
    return {m_hits.load(), m_misses.load(), m_damaged.load(), m_stored.load(),
            m_store_failures.load()};
}

std::string BlockCache::first_store_error() const {
    std::lock_guard lock(m_error_mutex);
    return m_first_error;
}

BlockCacheUsage block_cache_usage(const std::string& dir) {
    std::vector<EntryFile> entries;
    list_entries(dir, entries, nullptr);
    return usage_of(entries);
}

PruneResult prune_block_cache(const std::string& dir, uint64_t max_bytes) {
    std::vector<EntryFile> entries;
    std::vector<std::string> stale;
    list_entries(dir, entries, &stale);
    for (const auto& path : stale)
        ::unlink(path.c_str());
    PruneResult r;
    r.before = usage_of(entries);
    std::sort(entries.begin(), entries.end(),
              [](const EntryFile& a, const EntryFile& b) { return older(a.used, b.used); });
    uint64_t bytes = r.before.bytes;
    size_t first_kept = 0;
    while (first_kept < entries.size() && bytes > max_bytes) {
        const auto& e = entries[first_kept++];
        // An entry already gone (another prune) frees its bytes all the same.
        if (::unlink(e.path.c_str()) != 0 && errno != ENOENT)
            throw_errno(e.path + ": cannot remove a block cache entry");
        bytes -= e.size;
        r.removed++;
    }
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(first_kept));
    r.after = usage_of(entries);
    return r;
}

} // namespace sysext

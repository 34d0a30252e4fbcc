#include "sysext/publish/release_dir.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sysext::publish {

namespace fs = std::filesystem;

namespace {

// Present in every staging directory: stale-directory cleanup removes nothing
// that lacks it (an empty directory is only rmdir()ed).
constexpr const char* k_marker = ".sysext-build-staging";
constexpr std::string_view k_tmp = ".tmp-";

bool is_staging_name(const std::string& entry) {
    // ".NAME.tmp-XXXXXX" with six characters from mkdtemp.
    if (entry.size() < 2 + k_tmp.size() + 6 || entry[0] != '.')
        return false;
    return entry.compare(entry.size() - 6 - k_tmp.size(), k_tmp.size(), k_tmp) == 0;
}

void fsync_path(const std::string& path, int flags) {
    Fd fd = open_or_throw(path, flags | O_CLOEXEC);
    if (::fsync(fd.get()) != 0)
        throw_errno(path + ": cannot flush to disk");
}

// Regular files of a directory with their SHA-256; other entries make it "odd".
std::map<std::string, std::string> hash_dir(const std::string& dir, std::vector<std::string>& odd) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        if (name == k_marker)
            continue;
        if (e.is_symlink() || !e.is_regular_file())
            odd.push_back(name);
        else
            out[name] = to_hex(sha256_file(e.path().string()));
    }
    return out;
}

} // namespace

std::vector<std::string> ReleaseDir::stale_staging_dirs(const std::string& parent) {
    std::vector<std::string> stale;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(parent, ec)) {
        std::string name = e.path().filename().string();
        if (!is_staging_name(name) || e.is_symlink() || !e.is_directory())
            continue;
        Fd dir(::open(e.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
        if (!dir.valid())
            continue;
        // A live run holds its staging directory locked.
        if (::flock(dir.get(), LOCK_EX | LOCK_NB) != 0)
            continue;
        stale.push_back(name);
    }
    return stale;
}

ReleaseDir::ReleaseDir(std::string parent, std::string name)
    : m_parent(std::move(parent)), m_name(std::move(name)), m_final(m_parent + "/" + m_name) {
    fs::create_directories(m_parent);
    for (const auto& stale : stale_staging_dirs(m_parent)) {
        std::string path = m_parent + "/" + stale;
        struct stat st;
        if (::lstat((path + "/" + k_marker).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            std::error_code ec;
            fs::remove_all(path, ec);
        } else {
            ::rmdir(path.c_str()); // only if empty: killed before the marker was written
        }
    }
    std::string tmpl = m_parent + "/." + m_name + std::string(k_tmp) + "XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw_errno(m_parent + ": cannot create a staging directory");
    m_staging = tmpl;
    m_registration = cleanup::Registration(m_staging, true);
    m_lock = open_or_throw(m_staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (::flock(m_lock.get(), LOCK_EX | LOCK_NB) != 0)
        throw_errno(m_staging + ": cannot lock");
    Fd marker =
        open_or_throw(m_staging + "/" + k_marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}

ReleaseDir::~ReleaseDir() {
    if (m_committed)
        return;
    std::error_code ec;
    fs::remove_all(m_staging, ec);
}

void ReleaseDir::add(const std::string& name, const std::string& content) {
    std::string path = m_staging + "/" + name;
    Fd fd = open_or_throw(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    write_all(fd.get(), content.data(), content.size(), path);
    if (::fsync(fd.get()) != 0)
        throw_errno(path + ": cannot flush to disk");
    m_files[name] = {name, content.size(), to_hex(sha256(content))};
}

void ReleaseDir::add_signature(const std::string& name, const std::string& content) {
    add(name, content);
    m_signatures.insert(name);
}

void ReleaseDir::add_copy(const std::string& name, const std::string& source_path,
                          Reporter& reporter) {
    std::string path = m_staging + "/" + name;
    Fd in = open_or_throw(source_path, O_RDONLY | O_CLOEXEC);
    Fd out = open_or_throw(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    struct stat st;
    if (::fstat(in.get(), &st) != 0)
        throw_errno(source_path);
    const uint64_t total = static_cast<uint64_t>(st.st_size);
    std::vector<char> buf(1 << 20);
    Sha256 hash;
    uint64_t size = 0;
    for (;;) {
        size_t n =
            pread_full(in.get(), buf.data(), buf.size(), static_cast<off_t>(size), source_path);
        if (n == 0)
            break;
        hash.update(buf.data(), n);
        write_all(out.get(), buf.data(), n, path);
        size += n;
        reporter.progress(size, total);
    }
    if (::fsync(out.get()) != 0)
        throw_errno(path + ": cannot flush to disk");
    m_files[name] = {name, size, to_hex(hash.finish())};
}

std::vector<StagedFile> ReleaseDir::files() const {
    std::vector<StagedFile> out;
    for (const auto& [name, f] : m_files)
        out.push_back(f);
    return out;
}

CommitOutcome ReleaseDir::commit() {
    struct stat st;
    if (::lstat(m_final.c_str(), &st) != 0) {
        if (errno != ENOENT)
            throw_errno(m_final);
        // mkdtemp made it 0700; a release is for everyone to read.
        if (::fchmod(m_lock.get(), 0755) != 0)
            throw_errno(m_staging);
        fsync_path(m_staging, O_RDONLY | O_DIRECTORY);
        if (::rename(m_staging.c_str(), m_final.c_str()) == 0) {
            m_committed = true;
            m_registration.release();
            fsync_path(m_parent, O_RDONLY | O_DIRECTORY);
            // The marker goes once the release is in place (a kill before this
            // leaves it, which comparisons ignore).
            ::unlink((m_final + "/" + k_marker).c_str());
            return CommitOutcome::Published;
        }
        if (errno != EEXIST && errno != ENOTEMPTY)
            throw_errno(m_final + ": cannot rename " + m_staging + " into place");
        // Another run published the same name meanwhile: compare with it.
    }
    if (::lstat(m_final.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw_input(m_final + ": exists and is not a release directory; not replaced");
    std::vector<std::string> odd;
    auto existing = hash_dir(m_final, odd);
    std::vector<std::string> differ = odd;
    for (const auto& [name, hash] : existing) {
        auto it = m_files.find(name);
        if (it == m_files.end())
            differ.push_back(name + " (only in the published release)");
        else if (it->second.sha256 != hash && !m_signatures.count(name))
            differ.push_back(name + " (different bytes)");
    }
    for (const auto& [name, f] : m_files)
        if (!existing.count(name))
            differ.push_back(name + " (missing from the published release)");
    if (!differ.empty()) {
        std::string list;
        for (const auto& d : differ)
            list += (list.empty() ? "" : ", ") + d;
        throw_input(m_final + ": already published with other contents; refusing to replace it (" +
                    list + "). Publish a new version, or remove the old release on purpose");
    }
    return CommitOutcome::AlreadyPublished;
}

} // namespace sysext::publish

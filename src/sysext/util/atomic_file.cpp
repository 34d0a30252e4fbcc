#include "sysext/util/atomic_file.hpp"

#include "sysext/util/error.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace sysext {

static std::string temp_name_for(const std::string& final_path) {
    auto slash = final_path.rfind('/');
    std::string dir = slash == std::string::npos ? "" : final_path.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? final_path : final_path.substr(slash + 1);
    return dir + "." + base + ".tmp-XXXXXX";
}

// Temporaries of this final name that killed runs left (unlocked).
static void sweep_stale(const std::string& final_path) {
    auto slash = final_path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : final_path.substr(0, slash);
    std::string base = slash == std::string::npos ? final_path : final_path.substr(slash + 1);
    const std::string stem = "." + base + ".tmp-";
    cleanup::sweep_unlocked(dir.empty() ? "/" : dir, [&](std::string_view name) {
        return name.size() == stem.size() + 6 && name.substr(0, stem.size()) == stem;
    });
}

AtomicFile::AtomicFile(std::string final_path, unsigned mode, Sweep sweep)
    : m_final(std::move(final_path)), m_temp(temp_name_for(m_final)), m_mode(mode) {
    if (sweep == Sweep::Stale)
        sweep_stale(m_final);
    std::vector<char> buf(m_temp.begin(), m_temp.end());
    buf.push_back('\0');
    int fd = ::mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        // The usual cause: an output directory the user named that is not there.
        std::string dir = std::filesystem::path(m_final).parent_path().string();
        if (dir.empty())
            dir = ".";
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            throw Error(ErrorKind::Io, m_final + ": directory " + dir + " does not exist");
        errno = ENOENT;
    }
    if (fd < 0)
        throw_errno(m_final + ": cannot create a temporary file next to it");
    m_temp.assign(buf.data());
    m_fd = Fd(fd);
    m_registration = cleanup::Registration(m_temp, false);
    // Held until the rename: a sweep by another run leaves a live temporary alone.
    ::flock(fd, LOCK_EX | LOCK_NB);
}

AtomicFile::~AtomicFile() {
    if (!m_committed)
        ::unlink(m_temp.c_str());
}

void AtomicFile::write(const void* data, size_t size) { write_all(m_fd.get(), data, size, m_temp); }

void AtomicFile::commit_as(const std::string& final_path, bool sync) {
    m_final = final_path;
    commit(sync);
}

void AtomicFile::commit(bool sync) {
    if (::fchmod(m_fd.get(), m_mode) != 0)
        throw_errno(m_temp);
    if (sync && ::fsync(m_fd.get()) != 0)
        throw_errno(m_temp);
    // Renamed while still open and locked, so no sweep can take it first.
    if (::rename(m_temp.c_str(), m_final.c_str()) != 0)
        throw_errno(m_final);
    m_committed = true;
    m_registration.release();
    m_fd.reset();
}

void write_file_atomic(const std::string& path, const std::string& content, unsigned mode) {
    AtomicFile f(path, mode);
    f.write(content);
    f.commit();
}

} // namespace sysext

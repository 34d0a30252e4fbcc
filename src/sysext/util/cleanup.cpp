#include "sysext/util/cleanup.hpp"

#include "sysext/util/error.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace sysext::cleanup {

namespace {

struct Entry {
    std::string path;
    bool directory;
};

struct Registry {
    std::mutex mutex;
    std::map<uint64_t, Entry> entries;
    uint64_t next = 1;
};

Registry& registry() {
    static Registry* r = new Registry; // never destroyed: the signal thread may outlive main
    return *r;
}

void remove_entry(const Entry& e) {
    if (e.directory) {
        std::error_code ec;
        std::filesystem::remove_all(e.path, ec);
    } else {
        ::unlink(e.path.c_str());
    }
}

const char* signal_name(int sig) {
    switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
    }
}

sigset_t interrupt_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

} // namespace

Registration::Registration(std::string path, bool directory) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    m_id = r.next++;
    r.entries.emplace(m_id, Entry{std::move(path), directory});
}

Registration::Registration(Registration&& other) noexcept : m_id(other.m_id) { other.m_id = 0; }

Registration& Registration::operator=(Registration&& other) noexcept {
    if (this != &other) {
        release();
        m_id = other.m_id;
        other.m_id = 0;
    }
    return *this;
}

Registration::~Registration() { release(); }

void Registration::release() {
    if (m_id == 0)
        return;
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.entries.erase(m_id);
    m_id = 0;
}

TempDir::TempDir(const std::string& parent, const std::string& prefix) {
    sweep_unlocked(parent, [&](std::string_view name) {
        return name.size() == prefix.size() + 6 && name.substr(0, prefix.size()) == prefix;
    });
    std::string tmpl = parent + "/" + prefix + "XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw_errno(parent + ": cannot create a scratch directory");
    m_path = tmpl;
    m_registration = Registration(m_path, true);
    m_lock = ::open(m_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m_lock >= 0)
        ::flock(m_lock, LOCK_EX | LOCK_NB);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
    if (m_lock >= 0)
        ::close(m_lock);
}

void install_interrupt_handler() {
    sigset_t set = interrupt_signals();
    // Blocked here, so in every thread created later; only the watcher takes them.
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
        int sig = 0;
        while (sigwait(&set, &sig) != 0) {
        }
        Registry& r = registry();
        r.mutex.lock(); // held until _exit: nothing registers or commits meanwhile
        for (const auto& [id, e] : r.entries)
            remove_entry(e);
        std::fprintf(stderr, "\nsysext-build: interrupted by %s; temporary files removed\n",
                     signal_name(sig));
        std::fflush(stderr);
        ::_exit(128 + sig);
    }).detach();
}

bool ends_with_temp_suffix(std::string_view name, std::string_view before_suffix) {
    if (name.size() < before_suffix.size() + 6)
        return false;
    return name.substr(name.size() - 6 - before_suffix.size(), before_suffix.size()) ==
           before_suffix;
}

size_t sweep_unlocked(const std::string& dir, const std::function<bool(std::string_view)>& is_ours,
                      int min_age) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d)
        return 0;
    size_t removed = 0;
    while (dirent* e = ::readdir(d.get())) {
        std::string_view name = e->d_name;
        if (name == "." || name == ".." || !is_ours(name))
            continue;
        const std::string path = dir + "/" + e->d_name;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
            continue;
        struct stat st {};
        const bool locked_by_other = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
        // A temporary made this very moment may not be locked yet by its maker
        // (mkstemp, then flock): only one at least min_age seconds old counts as left.
        const bool settled = ::fstat(fd, &st) == 0 && ::time(nullptr) - st.st_ctim.tv_sec >= min_age;
        const bool ok = !locked_by_other && settled && st.st_uid == ::geteuid();
        if (ok) {
            remove_entry(Entry{path, S_ISDIR(st.st_mode)});
            ++removed;
        }
        ::close(fd);
    }
    return removed;
}

} // namespace sysext::cleanup

// An output file that only ever appears under its final name complete.
//
// Data goes to a temporary file in the same directory; commit() renames it into
// place. If the object is destroyed without commit() (an error, an exception),
// the temporary is removed and a previous file under the final name is untouched.
// The temporary is registered for removal on SIGINT/SIGTERM (cleanup.hpp) and
// held under flock(2) until it is renamed; creating one removes the unlocked
// temporaries of the same final name that killed runs left.
#pragma once

#include "sysext/util/cleanup.hpp"
#include "sysext/util/fd.hpp"

#include <string>

namespace sysext {

class AtomicFile {
public:
    // Whether creating one first removes stale temporaries of the same final
    // name. Directories that get many files (the block cache, a build's work
    // directory) are swept as a whole elsewhere.
    enum class Sweep { Stale, None };
    // mode is applied at commit (the temporary is created 0600).
    explicit AtomicFile(std::string final_path, unsigned mode = 0644, Sweep sweep = Sweep::Stale);
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile();

    int fd() const { return m_fd.get(); }
    const std::string& temp_path() const { return m_temp; }
    const std::string& final_path() const { return m_final; }
    void write(const void* data, size_t size);
    void write(const std::string& s) { write(s.data(), s.size()); }
    // Flushes to stable storage (optional), renames into place.
    void commit(bool sync = false);
    // Renames into place under another name than the one given at creation
    // (for content-addressed files, named once their hash is known).
    void commit_as(const std::string& final_path, bool sync = false);

private:
    std::string m_final;
    std::string m_temp;
    unsigned m_mode;
    Fd m_fd;
    cleanup::Registration m_registration;
    bool m_committed = false;
};

// Writes a whole small file atomically.
void write_file_atomic(const std::string& path, const std::string& content, unsigned mode = 0644);

} // namespace sysext

// Temporary files and directories that must not outlive the process.
//
// Every temporary a command makes (AtomicFile's ".NAME.tmp-XXXXXX", build's
// work directory, gpgv's scratch directory, a release's staging directory) is
// registered here while it exists. The command line blocks SIGINT, SIGTERM and
// SIGHUP in every thread and waits for them in one thread of its own
// (install_interrupt_handler): on a signal it removes what is registered, says
// "interrupted" and exits 128 + the signal's number.
//
// A run killed with SIGKILL cannot clean up. Each temporary is therefore held
// under flock(2) by the process that made it, and sweep_unlocked() removes the
// ones of a given naming that no live process holds: the next run that writes
// to the same place sweeps what killed runs left there, and nothing else.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sysext::cleanup {

// Keeps PATH registered for removal on interruption until destroyed or
// released; a directory is removed with everything in it.
class Registration {
public:
    Registration() = default;
    Registration(std::string path, bool directory);
    Registration(Registration&& other) noexcept;
    Registration& operator=(Registration&& other) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration();

    // The path no longer needs removing (renamed into place, or removed).
    void release();

private:
    uint64_t m_id = 0;
};

// A scratch directory PARENT/PREFIXXXXXXX, held under flock(2), registered for
// removal on interruption and removed with everything in it when destroyed.
// Making one first removes the unlocked PREFIX* directories killed runs left.
class TempDir {
public:
    TempDir(const std::string& parent, const std::string& prefix);
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
    int m_lock = -1;
    Registration m_registration;
};

// Called once by main before any other thread starts.
void install_interrupt_handler();

// Removes the entries of DIR that IS_OURS accepts and that no process holds
// under flock(2); returns how many. Errors are ignored: a sweep never fails a run.
// An entry younger than MIN_AGE seconds is left alone: its maker may not have
// locked it yet (mkstemp, then flock). 0 where a lock of the caller's keeps
// every other maker out of DIR.
size_t sweep_unlocked(const std::string& dir, const std::function<bool(std::string_view)>& is_ours,
                      int min_age = 1);

// The six characters mkstemp/mkdtemp put for "XXXXXX".
bool ends_with_temp_suffix(std::string_view name, std::string_view before_suffix);

} // namespace sysext::cleanup

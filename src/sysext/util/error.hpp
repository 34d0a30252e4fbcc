// Typed errors. The library throws; only the command line prints, once, and
// maps the kind to a documented exit code (see README "Exit codes").
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace sysext {

enum class ErrorKind {
    Usage = 2,       // bad flags or arguments
    Input = 3,       // bad source, profile or tree content
    Verify = 4,      // a check of an image, payload or signature failed
    Io = 5,          // the system refused a read or a write
    Internal = 70,   // a library reported something that should not happen
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), m_kind(kind) {}
    ErrorKind kind() const { return m_kind; }
    int exit_code() const { return static_cast<int>(m_kind); }

private:
    ErrorKind m_kind;
};

// Several problems found at once (validation lists every problem, then stops).
class MultiError : public Error {
public:
    MultiError(ErrorKind kind, std::vector<std::string> problems);
    const std::vector<std::string>& problems() const { return m_problems; }

private:
    std::vector<std::string> m_problems;
};

[[noreturn]] void throw_input(const std::string& what);
[[noreturn]] void throw_usage(const std::string& what);
[[noreturn]] void throw_verify(const std::string& what);
// "<what>: <strerror(errno)>" as an Io error; errno is read at the call.
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const std::string& what, int err);

} // namespace sysext

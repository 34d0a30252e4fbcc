#include "sysext/util/error.hpp"

#include <cerrno>
#include <cstring>

namespace sysext {

static std::string join_problems(const std::vector<std::string>& problems) {
    std::string out;
    for (const auto& p : problems) {
        if (!out.empty())
            out += '\n';
        out += p;
    }
    return out;
}

MultiError::MultiError(ErrorKind kind, std::vector<std::string> problems)
    : Error(kind, join_problems(problems)), m_problems(std::move(problems)) {}

void throw_input(const std::string& what) { throw Error(ErrorKind::Input, what); }
void throw_usage(const std::string& what) { throw Error(ErrorKind::Usage, what); }
void throw_verify(const std::string& what) { throw Error(ErrorKind::Verify, what); }
void throw_errno(const std::string& what) { throw_errno(what, errno); }
void throw_errno(const std::string& what, int err) {
    throw Error(ErrorKind::Io, what + ": " + std::strerror(err));
}

} // namespace sysext

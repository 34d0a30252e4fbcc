// Running a helper program (gpg, gpgv) and collecting what it prints.
#pragma once

#include <string>
#include <vector>

namespace sysext {

struct ProcessResult {
    int status = -1;  // exit code; -1 when killed by a signal; 127 when it could not be run
    std::string out;  // stdout, at most 64 KiB kept
    std::string err;  // stderr, at most 64 KiB kept
};

// Runs argv (argv[0] looked up in PATH) with stdin from /dev/null and the
// signals the command line blocks for its own handling (cleanup.hpp)
// unblocked, reading stdout and stderr together so that neither pipe can fill
// while the other is read.
ProcessResult run_process(const std::vector<std::string>& argv);

} // namespace sysext

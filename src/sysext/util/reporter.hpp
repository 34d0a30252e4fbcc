// How the library tells a caller about long work without printing.
//
// The command line implements this (progress bars on a terminal, a plain log
// otherwise, silence with --quiet); tests and other callers pass null_reporter().
#pragma once

#include <cstdint>
#include <string_view>

namespace sysext {

class Reporter {
public:
    virtual ~Reporter() = default;
    // A new step of the work begins ("packing", "signing", ...).
    virtual void stage(std::string_view /*name*/) {}
    // Progress within the current step, in units the step chooses (usually bytes).
    virtual void progress(uint64_t /*done*/, uint64_t /*total*/) {}
    // Something the user should read but that does not stop the work.
    virtual void warn(std::string_view /*message*/) {}
    virtual void info(std::string_view /*message*/) {}
};

Reporter& null_reporter();

} // namespace sysext

// Progress and warnings for people: a live line on a terminal, plain stage lines
// otherwise, nothing but warnings with --quiet. Everything goes to stderr, so
// that stdout stays clean for --json.
#pragma once

#include "sysext/util/reporter.hpp"

#include <chrono>
#include <string>

namespace sysext::cli {

class TerminalReporter : public Reporter {
public:
    explicit TerminalReporter(bool quiet);
    ~TerminalReporter() override;
    void stage(std::string_view name) override;
    void progress(uint64_t done, uint64_t total) override;
    void warn(std::string_view message) override;
    void info(std::string_view message) override;
    // Ends a live line, if one is showing.
    void finish();
    // --quiet: only errors, warnings included (set once, while parsing).
    static void errors_only(bool on) { s_errors_only = on; }

private:
    static inline bool s_errors_only = false;
    bool m_quiet;
    bool m_tty;
    bool m_live = false;
    std::string m_stage;
    std::chrono::steady_clock::time_point m_last{};
};

} // namespace sysext::cli

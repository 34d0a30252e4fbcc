#include "cli/terminal_reporter.hpp"

#include "sysext/util/strings.hpp"

#include <cstdio>
#include <unistd.h>

namespace sysext::cli {

TerminalReporter::TerminalReporter(bool quiet) : m_quiet(quiet), m_tty(::isatty(2) == 1) {}

TerminalReporter::~TerminalReporter() { finish(); }

void TerminalReporter::finish() {
    if (m_live)
        std::fputs("\n", stderr);
    m_live = false;
}

void TerminalReporter::stage(std::string_view name) {
    if (m_quiet)
        return;
    m_stage = std::string(name);
    if (m_tty) {
        std::fprintf(stderr, "\r\033[K%s", m_stage.c_str());
        m_live = true;
    } else {
        std::fprintf(stderr, "%s\n", m_stage.c_str());
    }
    std::fflush(stderr);
}

void TerminalReporter::progress(uint64_t done, uint64_t total) {
    if (m_quiet || !m_tty || total == 0)
        return;
    auto now = std::chrono::steady_clock::now();
    if (done < total && now - m_last < std::chrono::milliseconds(100))
        return;
    m_last = now;
    constexpr int k_width = 30;
    int filled = static_cast<int>(k_width * done / total);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(k_width, '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %3d%% %s / %s", m_stage.c_str(), bar.c_str(),
                 static_cast<int>(100 * done / total), format_size(done).c_str(),
                 format_size(total).c_str());
    std::fflush(stderr);
    m_live = true;
}

void TerminalReporter::warn(std::string_view message) {
    if (s_errors_only)
        return;
    finish();
    std::fprintf(stderr, "sysext-build: warning: %.*s\n", static_cast<int>(message.size()),
                 message.data());
}

void TerminalReporter::info(std::string_view message) {
    if (m_quiet)
        return;
    finish();
    std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
}

} // namespace sysext::cli

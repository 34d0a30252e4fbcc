// What the fuzz targets share: a scratch directory of the process's own (for
// readers that take a path, the input is written to a file there), and the
// rule that a reader refusing its input throws sysext::Error and nothing else.
// Any other exception escapes LLVMFuzzerTestOneInput, aborts the process and
// so is a finding, like a sanitizer report, a timeout or too much memory.
#pragma once

#include "sysext/util/error.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sysext::fuzz {

// $TMPDIR/sysext-fuzz.XXXXXX, made on first use and removed at exit (tools/fuzz
// points TMPDIR into its run directory, so a crash leaves nothing elsewhere).
inline const std::string& scratch_dir() {
    static const std::string dir = [] {
        std::string tmpl = std::filesystem::temp_directory_path() / "sysext-fuzz.XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr)
            std::abort();
        static std::string removed_at_exit;
        removed_at_exit = tmpl;
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(removed_at_exit, ec);
        });
        return tmpl;
    }();
    return dir;
}

// Writes the bytes to scratch_dir()/name, replacing the file; returns its path.
inline std::string write_input(const std::string& name, std::string_view bytes) {
    std::string path = scratch_dir() + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() ||
        std::fclose(f) != 0)
        std::abort();
    return path;
}

inline void remove_input(const std::string& name) {
    std::error_code ec;
    std::filesystem::remove_all(scratch_dir() + "/" + name, ec);
}

inline std::string_view bytes(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Splits an input made of several files at each "\n--8<--\n", for targets
// that read a group of files (an image and its sidecars).
inline std::vector<std::string_view> split_parts(std::string_view input) {
    static constexpr std::string_view k_separator = "\n--8<--\n";
    std::vector<std::string_view> parts;
    for (;;) {
        size_t at = input.find(k_separator);
        parts.push_back(input.substr(0, at));
        if (at == std::string_view::npos)
            return parts;
        input.remove_prefix(at + k_separator.size());
    }
}

// Runs a reader; its refusal (sysext::Error) is an expected outcome.
template <class F> void refusal_expected(F&& reader) {
    try {
        reader();
    } catch (const Error&) {
    }
}

} // namespace sysext::fuzz

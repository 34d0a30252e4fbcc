#include "sysext/release/release.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>

namespace sysext::release {

namespace {
// systemd's architecture names (src/basic/architecture.c).
const std::vector<std::string> k_architectures = {
    "alpha",   "arc",      "arc-be",   "arm",     "arm-be",  "arm64",    "arm64-be",
    "cris",    "ia64",     "loongarch64", "m68k", "mips",    "mips-le",  "mips64",
    "mips64-le", "nios2",  "parisc",   "parisc64", "ppc",    "ppc-le",   "ppc64",
    "ppc64-le", "riscv32", "riscv64",  "s390",    "s390x",   "sh",       "sh64",
    "sparc",   "sparc64",  "tilegx",   "x86",     "x86-64",
};

bool valid_key(std::string_view key) {
    if (key.empty() || (key[0] >= '0' && key[0] <= '9'))
        return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
}

bool needs_quotes(std::string_view value) {
    if (value.empty())
        return true;
    return !std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-' || c == ':' || c == '+' || c == '/' || c == ',';
    });
}

std::string quote_value(std::string_view value) {
    if (!needs_quotes(value))
        return std::string(value);
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\' || c == '$' || c == '`')
            out += '\\';
        out += c;
    }
    return out + "\"";
}
} // namespace

std::string architecture_hint(std::string_view arch) {
    static const std::pair<std::string_view, std::string_view> k_aliases[] = {
        {"amd64", "x86-64"}, {"x86_64", "x86-64"}, {"aarch64", "arm64"}, {"i386", "x86"},
        {"i686", "x86"},     {"armhf", "arm"},     {"ppc64el", "ppc64-le"},
    };
    for (const auto& [alias, name] : k_aliases)
        if (arch == alias)
            return std::string(name);
    return nearest(arch, k_architectures);
}

std::string release_path(std::string_view name) {
    return "usr/lib/extension-release.d/extension-release." + std::string(name);
}

std::string name_from_image_file(std::string_view file_name) {
    auto slash = file_name.rfind('/');
    if (slash != std::string_view::npos)
        file_name = file_name.substr(slash + 1);
    for (std::string_view suffix : {".sysext.raw", ".raw"})
        if (ends_with(file_name, suffix))
            return std::string(file_name.substr(0, file_name.size() - suffix.size()));
    return std::string(file_name);
}

bool known_architecture(std::string_view arch) {
    return arch == "_any" ||
           std::find(k_architectures.begin(), k_architectures.end(), arch) != k_architectures.end();
}

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 200 || name[0] == '.')
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '+' || c == '-';
    });
}

std::vector<std::string> check(const Fields& f, std::string_view where) {
    std::vector<std::string> problems;
    auto problem = [&](const std::string& what) { problems.push_back(std::string(where) + ": " + what); };
    // os-release(5): ID, VERSION_ID and SYSEXT_LEVEL hold lowercase letters,
    // digits and "._-" only; systemd-sysext ignores a file whose values do not
    // match the host's, so anything else ("13 beta", "Thirteen") is refused here.
    auto os_word = [](const std::string& v) {
        return std::all_of(v.begin(), v.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                   c == '-';
        });
    };
    if (f.os_id.empty())
        problem("ID is missing (give the host's os-release ID, or _any)");
    else if (f.os_id != "_any" && !os_word(f.os_id))
        problem("ID " + quote_untrusted(f.os_id) +
                " is not a valid os-release ID (lowercase letters, digits, \"._-\")");
    if (!os_word(f.version_id))
        problem("VERSION_ID " + quote_untrusted(f.version_id) +
                " is not a valid os-release VERSION_ID (lowercase letters, digits, \"._-\")");
    if (!os_word(f.sysext_level))
        problem("SYSEXT_LEVEL " + quote_untrusted(f.sysext_level) +
                " is not a valid os-release SYSEXT_LEVEL (lowercase letters, digits, \"._-\")");
    if (!f.architecture.empty() && !known_architecture(f.architecture)) {
        std::string hint = architecture_hint(f.architecture);
        problem("unknown architecture " + quote(f.architecture) +
                (hint.empty() ? " (systemd's names: x86-64, arm64, ...)" : " (did you mean " + quote(hint) + "?)"));
    }
    for (const auto& word : split(f.scope, ' ')) {
        if (!word.empty() && word != "initrd" && word != "system" && word != "portable")
            problem("SYSEXT_SCOPE word " + quote(word) + " is not one of initrd, system, portable");
    }
    for (const auto& [key, value] : f.extra) {
        if (!valid_key(key))
            problem("key " + quote(key) + " is not valid (uppercase letters, digits, _)");
        if (std::any_of(value.begin(), value.end(), [](char c) {
                return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
            }))
            problem("value of " + key + " holds a control character: " + quote_untrusted(value));
    }
    return problems;
}

std::string render(const Fields& f) {
    std::string out;
    auto line = [&](std::string_view key, std::string_view value) {
        if (!value.empty())
            out += std::string(key) + "=" + quote_value(value) + "\n";
    };
    line("ID", f.os_id);
    line("VERSION_ID", f.version_id);
    line("SYSEXT_LEVEL", f.sysext_level);
    line("ARCHITECTURE", f.architecture);
    line("SYSEXT_SCOPE", f.scope);
    if (f.reload_manager)
        line("EXTENSION_RELOAD_MANAGER", "1");
    for (const auto& [key, value] : f.extra)
        line(key, value);
    return out;
}

std::map<std::string, std::string> parse(std::string_view text, std::string_view where) {
    std::map<std::string, std::string> out;
    size_t line_no = 0;
    for (const auto& raw : split(text, '\n')) {
        ++line_no;
        std::string_view line = raw;
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
            line.remove_suffix(1);
        if (line.empty() || line.front() == '#')
            continue;
        auto at = [&](const std::string& what) {
            throw_input(std::string(where) + ":" + std::to_string(line_no) + ": " + what);
        };
        auto eq = line.find('=');
        if (eq == std::string_view::npos)
            at("expected KEY=value, got " + quote(line));
        std::string key(line.substr(0, eq));
        if (!valid_key(key))
            at("key " + quote(key) + " is not valid");
        std::string_view v = line.substr(eq + 1);
        std::string value;
        if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
            char q = v.front();
            if (v.size() < 2 || v.back() != q)
                at("unterminated quote in " + key);
            v = v.substr(1, v.size() - 2);
            for (size_t i = 0; i < v.size(); ++i) {
                if (q == '"' && v[i] == '\\' && i + 1 < v.size())
                    ++i;
                value += v[i];
            }
        } else {
            value = std::string(v);
        }
        // Readers disagree on a key given twice (systemd takes the last, others
        // the first): refused, so every reader sees the same release.
        if (out.count(key))
            at(key + " is given twice");
        out[key] = value;
    }
    return out;
}

Fields to_fields(const std::map<std::string, std::string>& pairs) {
    Fields f;
    for (const auto& [key, value] : pairs) {
        if (key == "ID")
            f.os_id = value;
        else if (key == "VERSION_ID")
            f.version_id = value;
        else if (key == "SYSEXT_LEVEL")
            f.sysext_level = value;
        else if (key == "ARCHITECTURE")
            f.architecture = value;
        else if (key == "SYSEXT_SCOPE")
            f.scope = value;
        else if (key == "EXTENSION_RELOAD_MANAGER")
            f.reload_manager = value == "1";
        else
            f.extra.emplace_back(key, value);
    }
    return f;
}

} // namespace sysext::release

#include "sysext/profile/profile.hpp"

#include "sysext/release/release.hpp"
#include "sysext/source/version.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/json_lines.hpp"
#include "sysext/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

namespace sysext::profile {

using nlohmann::json;

namespace {

// Walks the parsed document with its line map, collecting every problem.
class Checker {
public:
    Checker(std::string file, std::string_view text) : m_file(std::move(file)), m_lines(text) {}

    Origin at(const std::string& ptr) const { return {m_file, m_lines.line(ptr)}; }
    void problem(const std::string& ptr, const std::string& what) {
        m_problems.push_back(at(ptr).str() + ": " + what);
    }
    std::vector<std::string>& problems() { return m_problems; }

    // Unknown keys are problems, with the nearest known key suggested.
    bool object(const json& j, const std::string& ptr, const std::vector<std::string>& keys) {
        if (!j.is_object()) {
            problem(ptr, "expected an object");
            return false;
        }
        for (const auto& [key, value] : j.items()) {
            if (std::find(keys.begin(), keys.end(), key) != keys.end())
                continue;
            std::string hint = nearest(key, keys);
            problem(ptr + "/" + json_pointer_token(key),
                    "unknown key " + quote(key) + (hint.empty() ? "" : " (did you mean " + quote(hint) + "?)"));
        }
        return true;
    }

    std::string string(const json& obj, const std::string& key, const std::string& ptr, bool required) {
        if (!obj.contains(key)) {
            if (required)
                problem(ptr, "missing key " + quote(key));
            return "";
        }
        const json& v = obj[key];
        if (!v.is_string()) {
            problem(ptr + "/" + key, quote(key) + " must be a string");
            return "";
        }
        return v.get<std::string>();
    }

    bool boolean(const json& obj, const std::string& key, const std::string& ptr) {
        if (!obj.contains(key))
            return false;
        if (!obj[key].is_boolean()) {
            problem(ptr + "/" + key, quote(key) + " must be true or false");
            return false;
        }
        return obj[key].get<bool>();
    }

    std::vector<std::string> strings(const json& obj, const std::string& key, const std::string& ptr) {
        std::vector<std::string> out;
        if (!obj.contains(key))
            return out;
        const json& v = obj[key];
        if (!v.is_array()) {
            problem(ptr + "/" + key, quote(key) + " must be a list of strings");
            return out;
        }
        for (size_t i = 0; i < v.size(); ++i) {
            if (v[i].is_string())
                out.push_back(v[i].get<std::string>());
            else
                problem(ptr + "/" + key + "/" + std::to_string(i), "expected a string");
        }
        return out;
    }

    // Content as one string or a list of lines (each gets a newline).
    std::string text(const json& obj, const std::string& ptr) {
        if (obj.contains("content") && obj["content"].is_string())
            return obj["content"].get<std::string>();
        if (obj.contains("lines")) {
            std::string out;
            for (const auto& l : strings(obj, "lines", ptr))
                out += l + "\n";
            return out;
        }
        if (obj.contains("content"))
            problem(ptr + "/content", "\"content\" must be a string");
        else
            problem(ptr, "needs \"content\" (a string) or \"lines\" (a list of strings)");
        return "";
    }

    uint32_t mode(const json& obj, const std::string& ptr, uint32_t fallback) {
        std::string m = string(obj, "mode", ptr, false);
        if (m.empty())
            return fallback;
        uint32_t v = 0;
        bool ok = m.size() >= 3 && m.size() <= 4;
        for (char c : m) {
            ok = ok && c >= '0' && c <= '7';
            v = v * 8 + static_cast<uint32_t>(c - '0');
        }
        if (!ok) {
            problem(ptr + "/mode", "mode " + quote(m) + " is not octal like \"0755\"");
            return fallback;
        }
        return v;
    }

    std::map<std::string, std::string> string_map(const json& obj, const std::string& key,
                                                  const std::string& ptr) {
        std::map<std::string, std::string> out;
        if (!obj.contains(key))
            return out;
        const json& v = obj[key];
        if (!v.is_object()) {
            problem(ptr + "/" + key, quote(key) + " must be an object of strings");
            return out;
        }
        for (const auto& [k, val] : v.items()) {
            if (val.is_string())
                out[k] = val.get<std::string>();
            else
                problem(ptr + "/" + key + "/" + json_pointer_token(k), "expected a string");
        }
        return out;
    }

    // A path inside the extension: relative, no "..".
    void tree_path(const std::string& path, const std::string& ptr) {
        if (path.empty() || path[0] == '/')
            problem(ptr, "path " + quote(path) + " must be relative to the extension root (e.g. \"usr/bin/x\")");
        for (const auto& part : split(path, '/'))
            if (part == "..")
                problem(ptr, "path " + quote(path) + " leaves the tree");
    }

private:
    std::string m_file;
    JsonLines m_lines;
    std::vector<std::string> m_problems;
};

const std::vector<std::string> k_source_types = {"debian", "directory", "package", "url"};

SourceSpec read_source(Checker& c, const json& j, const std::string& ptr) {
    SourceSpec s;
    s.origin = c.at(ptr);
    if (!c.object(j, ptr, {"type", "packages", "suite", "mirror", "components", "with_dependencies",
                           "recommends", "base_system", "path", "url", "sha256", "strip_components",
                           "select", "prefix"}))
        return s;
    s.type = c.string(j, "type", ptr, true);
    if (!s.type.empty() && std::find(k_source_types.begin(), k_source_types.end(), s.type) == k_source_types.end()) {
        std::string hint = nearest(s.type, k_source_types);
        c.problem(ptr + "/type", "unknown source type " + quote(s.type) +
                                     (hint.empty() ? " (debian, directory, package, url)" : " (did you mean " + quote(hint) + "?)"));
    }
    s.packages = c.strings(j, "packages", ptr);
    s.suite = c.string(j, "suite", ptr, false);
    s.mirror = c.string(j, "mirror", ptr, false);
    s.components = c.strings(j, "components", ptr);
    s.with_dependencies = c.boolean(j, "with_dependencies", ptr);
    s.recommends = c.strings(j, "recommends", ptr);
    if (!s.recommends.empty() && !s.with_dependencies)
        c.problem(ptr + "/recommends", "\"recommends\" needs \"with_dependencies\": true");
    s.base_system = c.string(j, "base_system", ptr, false);
    s.path = c.string(j, "path", ptr, false);
    s.url = c.string(j, "url", ptr, false);
    auto sha256_ok = [](const std::string& v) {
        return v.size() == 64 && v.find_first_not_of("0123456789abcdef") == std::string::npos;
    };
    if (j.contains("sha256") && j["sha256"].is_object()) {
        for (const auto& [arch, v] : j["sha256"].items()) {
            const std::string at = ptr + "/sha256/" + json_pointer_token(arch);
            if (!release::known_architecture(arch) || arch == "_any") {
                std::string hint = release::architecture_hint(arch);
                c.problem(at, "unknown architecture " + quote(arch) +
                                  (hint.empty() ? " (systemd's names: x86-64, arm64, ...)"
                                                : " (did you mean " + quote(hint) + "?)"));
            } else if (!v.is_string() || !sha256_ok(v.get<std::string>())) {
                c.problem(at, "\"sha256\" of " + arch + " must be 64 lowercase hex digits");
            } else {
                s.sha256_by_arch[arch] = v.get<std::string>();
            }
        }
    } else {
        s.sha256 = c.string(j, "sha256", ptr, false);
        // With ${variables} it is checked once they are expanded.
        if (!s.sha256.empty() && s.sha256.find("${") == std::string::npos && !sha256_ok(s.sha256))
            c.problem(ptr + "/sha256", "\"sha256\" must be 64 lowercase hex digits, ${VARIABLES} "
                                       "or an object of them per architecture");
    }
    if (j.contains("strip_components")) {
        const json& v = j["strip_components"];
        if (!v.is_number_unsigned() || v.get<uint64_t>() > 64)
            c.problem(ptr + "/strip_components", "\"strip_components\" must be a whole number from 0 to 64");
        else
            s.strip_components = v.get<unsigned>();
    }
    s.select = c.strings(j, "select", ptr);
    s.prefix = c.string(j, "prefix", ptr, false);
    if (s.type == "debian" && s.packages.empty())
        c.problem(ptr, "a debian source needs \"packages\"");
    if ((s.type == "directory" || s.type == "package") && s.path.empty())
        c.problem(ptr, "a " + s.type + " source needs \"path\"");
    if (s.type == "url" && (s.url.empty() || (s.sha256.empty() && s.sha256_by_arch.empty())))
        c.problem(ptr, "a url source needs \"url\" and its \"sha256\" (64 hex digits)");
    if (s.strip_components > 0 && s.type != "url" && s.type != "package")
        c.problem(ptr + "/strip_components", "only archives have components to strip (url, package)");
    return s;
}

const std::vector<std::string> k_formats = {"squashfs", "erofs"};

FormatRule read_format_rule(Checker& c, const json& j, const std::string& ptr) {
    FormatRule r;
    r.origin = c.at(ptr);
    if (j.is_string()) {
        r.format = j.get<std::string>();
    } else {
        if (!c.object(j, ptr, {"when", "format", "compression", "block_size", "erofs_pcluster",
                               "tail_packing", "fragments", "disk_image"}))
            return r;
        r.format = c.string(j, "format", ptr, true);
        r.compression = c.string(j, "compression", ptr, false);
        r.block_size = c.string(j, "block_size", ptr, false);
        r.erofs_pcluster = c.string(j, "erofs_pcluster", ptr, false);
        if (j.contains("tail_packing"))
            r.tail_packing = c.boolean(j, "tail_packing", ptr) ? 1 : 0;
        if (j.contains("fragments"))
            r.fragments = c.boolean(j, "fragments", ptr) ? 1 : 0;
        r.disk_image = c.boolean(j, "disk_image", ptr);
        if (j.contains("when") && c.object(j["when"], ptr + "/when", {"version", "at_least"})) {
            r.when_version = c.string(j["when"], "version", ptr + "/when", true);
            r.at_least = c.string(j["when"], "at_least", ptr + "/when", true);
            if (!r.at_least.empty()) {
                try {
                    source::DebianVersion::parse(r.at_least);
                } catch (const Error& e) {
                    c.problem(ptr + "/when/at_least", e.what());
                }
            }
        }
    }
    if (r.format.empty() && !j.is_object())
        c.problem(ptr, "a format is \"squashfs\" or \"erofs\"");
    else if (!r.format.empty() &&
             std::find(k_formats.begin(), k_formats.end(), r.format) == k_formats.end())
        c.problem(ptr + (j.is_string() ? "" : "/format"),
                  "unknown format " + quote(r.format) + " (squashfs or erofs)");
    if (r.format == "erofs" && !r.block_size.empty())
        c.problem(ptr + "/block_size",
                  "\"block_size\" is a squashfs setting; EROFS images take \"erofs_pcluster\"");
    if (r.format == "squashfs" && !r.erofs_pcluster.empty())
        c.problem(ptr + "/erofs_pcluster", "\"erofs_pcluster\" is an EROFS setting");
    if (r.format == "squashfs" && r.fragments == 1)
        c.problem(ptr + "/fragments", "\"fragments\" is an EROFS setting");
    return r;
}

TargetSpec read_target(Checker& c, const std::string& name, const json& j, const std::string& ptr) {
    TargetSpec t;
    t.name = name;
    t.origin = c.at(ptr);
    if (!c.object(j, ptr,
                  {"image", "release", "sources", "requires", "base_files", "host_files", "glibc",
                   "format"}))
        return t;
    if (j.contains("format")) {
        const json& f = j["format"];
        if (f.is_array()) {
            for (size_t i = 0; i < f.size(); ++i)
                t.formats.push_back(read_format_rule(c, f[i], ptr + "/format/" + std::to_string(i)));
            if (f.empty())
                c.problem(ptr + "/format", "\"format\": a list of at least one rule");
        } else if (f.is_string() || f.is_object()) {
            t.formats.push_back(read_format_rule(c, f, ptr + "/format"));
        } else {
            c.problem(ptr + "/format",
                      "\"format\" must be \"squashfs\", \"erofs\", a rule or a list of rules");
        }
    }
    t.glibc = c.string(j, "glibc", ptr, false);
    t.image = c.string(j, "image", ptr, false);
    t.base_files = c.string(j, "base_files", ptr, false);
    t.host_files = c.string(j, "host_files", ptr, false);
    t.release = c.string_map(j, "release", ptr);
    t.requires_vars = c.strings(j, "requires", ptr);
    if (!j.contains("sources") || !j["sources"].is_array() || j["sources"].empty()) {
        c.problem(ptr, "a target needs \"sources\", a non-empty list");
        return t;
    }
    for (size_t i = 0; i < j["sources"].size(); ++i)
        t.sources.push_back(read_source(c, j["sources"][i], ptr + "/sources/" + std::to_string(i)));
    return t;
}

template <class F> void each(Checker& c, const json& root, const std::string& key, F&& f) {
    if (!root.contains(key))
        return;
    const json& list = root[key];
    if (!list.is_array()) {
        c.problem("/" + key, quote(key) + " must be a list");
        return;
    }
    for (size_t i = 0; i < list.size(); ++i)
        f(list[i], "/" + key + "/" + std::to_string(i));
}

} // namespace

std::string Profile::dir() const {
    auto slash = file.rfind('/');
    return slash == std::string::npos ? "." : file.substr(0, slash);
}

Profile parse(const std::string& text, const std::string& file) {
    // Bounded before parsing: a profile is a page or two of JSON, and a hostile
    // one must not cost gigabytes (an 80 kB profile nested 40,000 deep did).
    if (text.size() > k_max_profile_bytes)
        throw_input(file + ": " + std::to_string(text.size()) +
                    " bytes; the limit for a profile is " + std::to_string(k_max_profile_bytes));
    json root;
    try {
        root = json::parse(text, [&](int depth, json::parse_event_t, json&) {
            if (depth > k_max_profile_depth)
                throw_input(file + ": nested deeper than " + std::to_string(k_max_profile_depth) +
                            " levels, the limit for a profile");
            return true;
        });
    } catch (const json::parse_error& e) {
        // e.byte is 1-based; count lines up to it.
        int line = 1;
        for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i)
            line += text[i] == '\n';
        std::string why = e.what();
        auto pos = why.find("syntax error");
        throw_input(file + ":" + std::to_string(line) + ": " + (pos == std::string::npos ? why : why.substr(pos)));
    } catch (const json::exception& e) {
        // A number out of range ("1e999") and the like: still the profile's fault.
        throw_input(file + ": " + e.what());
    }
    Checker c(file, text);
    Profile p;
    p.file = file;
    if (!c.object(root, "", {"name", "description", "version_from", "default_target", "architectures",
                             "release", "targets", "components", "exclude", "move", "files", "symlinks",
                             "modes", "release_versions", "release_targets"}))
        throw MultiError(ErrorKind::Input, c.problems());
    p.name = c.string(root, "name", "", true);
    p.description = c.string(root, "description", "", false);
    p.version_from = c.string(root, "version_from", "", false);
    p.default_target = c.string(root, "default_target", "", false);
    p.architectures = c.strings(root, "architectures", "");
    p.release = c.string_map(root, "release", "");
    p.release_versions = c.strings(root, "release_versions", "");
    p.release_targets = c.strings(root, "release_targets", "");
    for (size_t i = 0; i < p.release_versions.size(); ++i) {
        try {
            source::VersionPattern::parse(p.release_versions[i]);
        } catch (const Error& e) {
            c.problem("/release_versions/" + std::to_string(i), e.what());
        }
    }
    if (!p.release_versions.empty() && p.version_from.empty())
        c.problem("/release_versions", "\"release_versions\" needs \"version_from\" (the package they select)");
    p.exclude = c.strings(root, "exclude", "");
    if (!root.contains("targets") || !root["targets"].is_object() || root["targets"].empty()) {
        c.problem("", "missing \"targets\": at least one target (e.g. \"debian\") is needed");
    } else {
        for (const auto& [name, t] : root["targets"].items())
            p.targets[name] = read_target(c, name, t, "/targets/" + json_pointer_token(name));
        if (p.default_target.empty())
            p.default_target = p.targets.begin()->first;
        else if (!p.targets.count(p.default_target))
            c.problem("/default_target", "default_target " + quote(p.default_target) + " is not a target");
        for (size_t i = 0; i < p.release_targets.size(); ++i)
            if (!p.targets.count(p.release_targets[i]))
                c.problem("/release_targets/" + std::to_string(i),
                          "release target " + quote(p.release_targets[i]) + " is not a target");
    }
    each(c, root, "components", [&](const json& j, const std::string& ptr) {
        if (!c.object(j, ptr, {"name", "paths", "package"}))
            return;
        ComponentSpec s{c.string(j, "name", ptr, true), c.strings(j, "paths", ptr),
                        c.string(j, "package", ptr, false), c.at(ptr)};
        if (s.paths.empty())
            c.problem(ptr, "component " + quote(s.name) + " lists no \"paths\"");
        p.components.push_back(std::move(s));
    });
    each(c, root, "move", [&](const json& j, const std::string& ptr) {
        if (!c.object(j, ptr, {"from", "to", "etc_defaults"}))
            return;
        MoveSpec m{c.string(j, "from", ptr, true), c.string(j, "to", ptr, true),
                   c.boolean(j, "etc_defaults", ptr), c.at(ptr)};
        c.tree_path(m.to, ptr + "/to");
        p.moves.push_back(std::move(m));
    });
    each(c, root, "files", [&](const json& j, const std::string& ptr) {
        if (!c.object(j, ptr, {"path", "mode", "content", "lines"}))
            return;
        FileSpec f;
        f.path = c.string(j, "path", ptr, true);
        f.mode = c.mode(j, ptr, 0644);
        f.content = c.text(j, ptr);
        f.origin = c.at(ptr);
        c.tree_path(f.path, ptr + "/path");
        p.files.push_back(std::move(f));
    });
    each(c, root, "symlinks", [&](const json& j, const std::string& ptr) {
        if (!c.object(j, ptr, {"path", "target"}))
            return;
        LinkSpec l{c.string(j, "path", ptr, true), c.string(j, "target", ptr, true), c.at(ptr)};
        c.tree_path(l.path, ptr + "/path");
        p.symlinks.push_back(std::move(l));
    });
    each(c, root, "modes", [&](const json& j, const std::string& ptr) {
        if (!c.object(j, ptr, {"path", "mode"}))
            return;
        p.modes.push_back({c.string(j, "path", ptr, true), c.mode(j, ptr, 0644), c.at(ptr)});
    });
    if (!c.problems().empty())
        throw MultiError(ErrorKind::Input, c.problems());
    // Read as expand() reads: "$$" is a literal "$", "${NAME}" a reference.
    for (size_t i = 0; i + 1 < text.size(); ++i) {
        if (text[i] == '$' && text[i + 1] == '$') {
            ++i;
        } else if (text[i] == '$' && text[i + 1] == '{') {
            auto end = text.find('}', i + 2);
            if (end == std::string::npos)
                break;
            p.variables.insert(text.substr(i + 2, end - i - 2));
            i = end;
        }
    }
    return p;
}

Profile load(const std::string& path) { return parse(read_file(path, k_max_profile_bytes), path); }

std::string find(const std::string& name, const std::vector<std::string>& dirs) {
    struct stat st;
    if (name.find('/') != std::string::npos || ends_with(name, ".json")) {
        if (::stat(name.c_str(), &st) == 0 && S_ISREG(st.st_mode))
            return name;
        throw_input(name + ": no such profile file");
    }
    for (const auto& d : dirs) {
        std::string candidate = d + "/" + name + ".json";
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode))
            return candidate;
    }
    std::string searched;
    for (const auto& d : dirs)
        searched += (searched.empty() ? "" : ", ") + d;
    throw_input("no profile named " + quote(name) + " (looked in " + searched + ")");
}

std::string expand(const std::string& text, const std::map<std::string, std::string>& vars,
                   const Origin& origin) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
            out += '$'; // "$$" is a literal "$" (systemd units use ${VAR} themselves)
            ++i;
        } else if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
            auto end = text.find('}', i + 2);
            if (end == std::string::npos)
                throw_input(origin.str() + ": unterminated ${ in " + quote(text));
            std::string key = text.substr(i + 2, end - i - 2);
            auto it = vars.find(key);
            if (it == vars.end()) {
                std::vector<std::string> known;
                for (const auto& [k, v] : vars)
                    known.push_back(k);
                std::string hint = nearest(key, known);
                throw_input(origin.str() + ": unknown variable ${" + key + "}" +
                            (hint.empty() ? "" : " (did you mean ${" + hint + "}?)") +
                            "; set it with --set " + key + "=VALUE");
            }
            out += it->second;
            i = end;
        } else {
            out += text[i];
        }
    }
    return out;
}

} // namespace sysext::profile

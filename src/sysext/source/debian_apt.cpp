// Reading apt's source lists (see debian_apt.hpp).
#include "sysext/source/debian_apt.hpp"

#include "sysext/source/debian_control.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace sysext::source {

namespace {

std::string strip_slash(std::string uri) {
    while (uri.size() > 1 && uri.back() == '/')
        uri.pop_back();
    return uri;
}

} // namespace

std::vector<AptSource> parse_sources_list(const std::string& text, const std::string& origin) {
    std::vector<AptSource> out;
    auto lines = split(text, '\n');
    for (size_t n = 0; n < lines.size(); ++n) {
        std::string line = lines[n];
        if (auto hash = line.find('#'); hash != std::string::npos)
            line.erase(hash);
        auto w = split_words(line);
        if (w.empty() || w[0] != "deb")
            continue;
        size_t i = 1;
        // Options: "[arch=amd64 signed-by=/k.gpg]", possibly spread over words.
        if (i < w.size() && starts_with(w[i], "[")) {
            while (i < w.size() && !ends_with(w[i], "]"))
                ++i;
            ++i;
        }
        if (i + 1 >= w.size())
            throw_input(origin + ":" + std::to_string(n + 1) +
                        ": a deb line needs a URI and a suite");
        AptSource s;
        s.uri = strip_slash(w[i]);
        s.suites = {w[i + 1]};
        s.components.assign(w.begin() + static_cast<long>(i) + 2, w.end());
        s.origin = origin + ":" + std::to_string(n + 1);
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<AptSource> parse_deb822_sources(const std::string& text, const std::string& origin) {
    std::vector<AptSource> out;
    for_each_paragraph(text, origin, [&](const ControlParagraph& p) {
        auto types = split_words(p.get("Types"));
        if (std::find(types.begin(), types.end(), "deb") == types.end())
            return;
        std::string enabled = p.get("Enabled");
        if (enabled == "no" || enabled == "false")
            return;
        for (const auto& uri : split_words(p.get("URIs"))) {
            AptSource s;
            s.uri = strip_slash(uri);
            s.suites = split_words(p.get("Suites"));
            s.components = split_words(p.get("Components"));
            s.origin = origin + ":" + std::to_string(p.line);
            if (!s.suites.empty())
                out.push_back(std::move(s));
        }
    });
    return out;
}

std::vector<AptSource> read_apt_sources(const std::string& root) {
    namespace fs = std::filesystem;
    std::vector<AptSource> out;
    auto add = [&](const std::vector<AptSource>& more) {
        out.insert(out.end(), more.begin(), more.end());
    };
    fs::path apt = fs::path(root) / "etc/apt";
    std::error_code ec;
    if (fs::is_regular_file(apt / "sources.list", ec))
        add(parse_sources_list(read_file((apt / "sources.list").string()),
                               (apt / "sources.list").string()));
    std::vector<fs::path> files;
    if (fs::is_directory(apt / "sources.list.d", ec))
        for (const auto& e : fs::directory_iterator(apt / "sources.list.d"))
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        // apt ignores other names (".disabled", ".save", editor backups): so do we.
        if (f.extension() == ".list")
            add(parse_sources_list(read_file(f.string()), f.string()));
        else if (f.extension() == ".sources")
            add(parse_deb822_sources(read_file(f.string()), f.string()));
    }
    return out;
}

MirrorChoice choose_mirror(const std::string& mirror, const std::string& suite,
                           const std::vector<AptSource>& sources) {
    MirrorChoice c;
    c.components = {"main"};
    if (!mirror.empty() && !suite.empty()) {
        c.mirror = strip_slash(mirror);
        c.suite = suite;
        c.origin = "command line";
        return c;
    }
    const AptSource* pick = nullptr;
    for (const auto& s : sources) {
        if (!mirror.empty() && strip_slash(mirror) != s.uri)
            continue;
        if (!suite.empty() && std::find(s.suites.begin(), s.suites.end(), suite) == s.suites.end())
            continue;
        pick = &s;
        break;
    }
    if (!pick && mirror.empty() && !sources.empty())
        pick = &sources.front();
    if (!pick) {
        if (mirror.empty())
            throw_usage("no Debian mirror in the apt sources: give --mirror URL");
        throw_usage("no apt source uses " + mirror + ": give --suite NAME");
    }
    c.mirror = mirror.empty() ? pick->uri : strip_slash(mirror);
    c.suite = suite.empty() ? pick->suites.front() : suite;
    if (!pick->components.empty() &&
        std::find(pick->suites.begin(), pick->suites.end(), c.suite) != pick->suites.end())
        c.components = pick->components;
    c.origin = pick->origin;
    return c;
}

} // namespace sysext::source

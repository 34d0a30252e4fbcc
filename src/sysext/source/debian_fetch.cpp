// The Debian source step (see debian_fetch.hpp).
#include "sysext/source/debian_fetch.hpp"

#include "sysext/source/debian_apt.hpp"
#include "sysext/source/debian_repo.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>

namespace sysext::source {

namespace {

bool valid_package_name(const std::string& name) {
    // Policy 5.6.1: lowercase letters, digits, + - . ; at least two characters.
    if (name.size() < 2 ||
        !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    });
}

} // namespace

PackageRequest parse_package_request(const std::string& text) {
    PackageRequest r;
    auto eq = text.find('=');
    r.name = text.substr(0, eq);
    if (!valid_package_name(r.name))
        throw_usage("bad Debian package name " + quote(r.name));
    if (eq != std::string::npos)
        r.pattern = VersionPattern::parse(text.substr(eq + 1));
    return r;
}

DebFetchResult fetch_debs(const DebFetchRequest& request, Fetcher& fetcher, Reporter& reporter) {
    if (request.packages.empty())
        throw_usage("no packages asked for");
    std::vector<AptSource> apt;
    if (request.mirror.empty() || request.suite.empty())
        apt = read_apt_sources(request.apt_root);
    MirrorChoice where = choose_mirror(request.mirror, request.suite, apt);

    DebianRepoOptions options;
    options.mirror = where.mirror;
    options.suite = where.suite;
    options.components = request.components.empty() ? where.components : request.components;
    options.architecture = request.architecture;
    if (!request.keyring.empty())
        options.keyring = request.keyring;
    DebianRepo repo(options, fetcher);
    reporter.stage("reading the " + where.suite + " index of " + where.mirror);
    repo.load();

    std::vector<const DebPackage*> chosen;
    for (const auto& p : request.packages)
        chosen.push_back(&repo.index().choose(p.name, p.pattern));
    std::vector<std::string> left_out;
    if (request.with_depends) {
        BaseSystem base = request.base;
        if (request.base_minbase)
            base.merge(repo.index().minbase());
        const PackageIndex& index = repo.index();
        std::vector<const DebPackage*> roots = chosen;
        chosen = index.resolve(roots, base);
        // A recommendation may come from a package another one brought in:
        // take them in rounds until no named one is left that can be taken.
        std::vector<std::string> wanted = request.recommends;
        while (!wanted.empty()) {
            std::vector<std::string> later;
            for (const auto& name : wanted) {
                if (const DebPackage* pick = index.recommended(chosen, name))
                    roots.push_back(pick);
                else
                    later.push_back(name);
            }
            if (later.size() == wanted.size()) {
                std::string unmet = index.unmet_recommends(chosen, base).empty() ? "none" : "";
                for (const auto& r : index.unmet_recommends(chosen, base))
                    unmet += (unmet.empty() ? "" : ", ") + r;
                throw_input("recommended package " + quote(later.front()) +
                            " is asked for, but no package taken recommends it (left-out "
                            "recommendations: " + unmet + ")");
            }
            chosen = index.resolve(roots, base);
            wanted = std::move(later);
        }
        left_out = index.unmet_recommends(chosen, base);
    } else
        std::sort(chosen.begin(), chosen.end(),
                  [](const DebPackage* a, const DebPackage* b) { return a->name < b->name; });

    DebFetchResult result{where.mirror, where.suite, {}, std::move(left_out)};
    for (const DebPackage* p : chosen) {
        if (!result.debs.empty() && result.debs.back().entry.name == p->name) {
            if (result.debs.back().entry.version != p->version.str())
                throw_usage("package " + quote(p->name) + " asked for at two versions: " +
                            result.debs.back().entry.version + " and " + p->version.str());
            continue; // asked for twice
        }
        reporter.stage("fetching " + p->name + " " + p->version.str());
        FetchResult got = repo.download(*p);
        LockEntry e{"deb",           p->name,     p->version.str(), p->architecture,
                    repo.url_of(*p), p->filename, p->sha256,        p->size};
        result.debs.push_back({std::move(e), got.path, got.from_cache});
    }
    return result;
}

DebFetchResult fetch_locked_debs(const LockFile& lock, const std::vector<std::string>& names,
                                 const std::string& mirror, Fetcher& fetcher, Reporter& reporter) {
    DebFetchResult result{mirror, "", {}, {}};
    for (const auto& name : names) {
        bool found =
            std::any_of(lock.entries().begin(), lock.entries().end(),
                        [&](const LockEntry& e) { return e.kind == "deb" && e.name == name; });
        if (!found)
            throw_usage("package " + quote(name) + " is not in the lock file");
    }
    for (const auto& e : lock.entries()) {
        if (e.kind != "deb")
            continue;
        if (!names.empty() && std::find(names.begin(), names.end(), e.name) == names.end())
            continue;
        reporter.stage("fetching " + e.name + " " + e.version);
        FetchResult got = fetcher.fetch(e.source_url(mirror), e.sha256, e.size);
        LockEntry copy = e;
        copy.url = e.source_url(mirror);
        result.debs.push_back({std::move(copy), got.path, got.from_cache});
    }
    if (result.debs.empty())
        throw_usage("the lock file names no Debian packages");
    return result;
}

} // namespace sysext::source

// Packages index parsing, package choice and dependency closure (see debian_packages.hpp).
#include "sysext/source/debian_packages.hpp"

#include "sysext/source/archive_reason.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <unordered_set>

namespace sysext::source {

namespace {

struct ArchiveReadDeleter {
    void operator()(archive* a) const { archive_read_free(a); }
};

bool dependency_met(const DebPackage& p, const Dependency& dep) {
    if (p.name == dep.name && (!dep.version || satisfies(p.version, dep.relation, *dep.version)))
        return true;
    for (const auto& prov : p.provides) {
        if (prov.name != dep.name)
            continue;
        // An unversioned Provides satisfies only unversioned dependencies (Policy 7.5).
        if (!dep.version)
            return true;
        if (prov.version && satisfies(*prov.version, dep.relation, *dep.version))
            return true;
    }
    return false;
}

// "pool/main/p/x.deb": relative, with no "." or ".." components, no URL.
bool safe_relative_path(const std::string& path) {
    if (path.empty() || path.front() == '/' || path.find("://") != std::string::npos)
        return false;
    for (const auto& part : split(path, '/'))
        if (part.empty() || part == "." || part == "..")
            return false;
    return true;
}

} // namespace

void BaseSystem::add(const std::string& name, std::optional<DebianVersion> version) {
    auto [it, inserted] = packages.emplace(name, version);
    // A name that is both a real package and provided keeps the real version.
    if (!inserted && version && !it->second)
        it->second = version;
}

void BaseSystem::merge(const BaseSystem& other) {
    for (const auto& [name, version] : other.packages)
        add(name, version);
    origin = origin.empty() ? other.origin : origin + " and " + other.origin;
}

BaseSystem parse_base_system(const std::string& text, const std::string& origin) {
    BaseSystem base;
    base.origin = origin;
    if (starts_with(text, "Package:") || text.find("\nPackage:") != std::string::npos) {
        for_each_paragraph(text, origin, [&](const ControlParagraph& p) {
            auto status = split(p.get("Status"), ' ');
            if (status.empty() || status.back() != "installed")
                return;
            const std::string where = origin + ":" + std::to_string(p.line);
            std::optional<DebianVersion> version;
            try {
                if (!p.get("Version").empty())
                    version = DebianVersion::parse(p.get("Version"));
            } catch (const Error& e) {
                throw_input(where + ": " + e.what());
            }
            base.add(p.get("Package"), version);
            for (const auto& group : parse_relations(p.get("Provides"), where))
                for (const auto& d : group)
                    base.add(d.name, d.relation == Relation::Equal ? d.version : std::nullopt);
        });
        return base;
    }
    size_t line_no = 0;
    for (auto line : split(text, '\n')) {
        ++line_no;
        if (auto hash = line.find('#'); hash != std::string::npos)
            line.erase(hash);
        std::istringstream in(line);
        std::string name;
        std::string version;
        in >> name >> version;
        if (auto colon = name.find(':'); colon != std::string::npos)
            name.erase(colon);
        if (name.empty())
            continue;
        try {
            base.add(name,
                     version.empty() ? std::nullopt : std::optional(DebianVersion::parse(version)));
        } catch (const Error& e) {
            throw_input(origin + ":" + std::to_string(line_no) + ": " + e.what());
        }
    }
    return base;
}

BaseSystem read_base_system(const std::string& path) {
    // A root directory: its dpkg database says what is installed.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        const std::string status = path + "/var/lib/dpkg/status";
        return parse_base_system(read_file(status), status);
    }
    return parse_base_system(read_file(path), path);
}

void PackageIndex::add(std::string_view text, const std::string& origin) {
    std::unordered_set<std::string> seen;
    for (const auto& p : m_packages)
        seen.insert(p.name + " " + p.version.str() + " " + p.architecture);
    for_each_paragraph(text, origin, [&](const ControlParagraph& para) {
        const std::string where = origin + ":" + std::to_string(para.line);
        std::string arch = para.get("Architecture");
        if (arch != m_architecture && arch != "all")
            return;
        DebPackage p;
        p.name = para.get("Package");
        p.architecture = arch;
        p.filename = para.get("Filename");
        p.sha256 = para.get("SHA256");
        const std::optional<uint64_t> size = parse_decimal(para.get("Size"));
        std::string version = para.get("Version");
        if (p.name.empty() || version.empty() || p.filename.empty() || p.sha256.size() != 64 ||
            !size)
            throw_input(where + ": stanza lacks Package, Version, Filename, SHA256 or Size");
        // A Filename leading out of the mirror would fetch from elsewhere.
        if (!safe_relative_path(p.filename))
            throw_input(where + ": bad Filename " + quote(p.filename));
        try {
            p.version = DebianVersion::parse(version);
        } catch (const Error& e) {
            throw_input(where + ": " + e.what());
        }
        p.size = *size;
        for (const char* field : {"Pre-Depends", "Depends"})
            for (auto& g : parse_relations(para.get(field), where))
                p.depends.push_back(std::move(g));
        p.recommends = parse_relations(para.get("Recommends"), where);
        for (auto& g : parse_relations(para.get("Provides"), where))
            for (auto& d : g)
                p.provides.push_back(std::move(d));
        p.origin = where;
        p.priority = para.get("Priority");
        p.essential = para.get("Essential") == "yes";
        if (!seen.insert(p.name + " " + p.version.str() + " " + p.architecture).second)
            return;
        size_t index = m_packages.size();
        m_by_name[p.name].push_back(index);
        for (const auto& prov : p.provides)
            m_providers[prov.name].push_back(index);
        m_packages.push_back(std::move(p));
    });
}

const DebPackage& PackageIndex::choose(const std::string& name,
                                       const VersionPattern& pattern) const {
    auto it = m_by_name.find(name);
    if (it == m_by_name.end()) {
        std::string msg = "package " + quote(name) + " is not in the " + m_architecture + " index";
        if (auto prov = m_providers.find(name); prov != m_providers.end())
            msg += " (it is a virtual package provided by " +
                   quote(m_packages[prov->second.front()].name) + ")";
        else {
            std::vector<std::string> names;
            names.reserve(m_by_name.size());
            for (const auto& [n, _] : m_by_name)
                names.push_back(n);
            std::sort(names.begin(), names.end());
            if (auto near = nearest(name, names); !near.empty())
                msg += " (did you mean " + quote(near) + "?)";
        }
        throw_input(msg);
    }
    std::vector<DebianVersion> versions;
    for (size_t i : it->second)
        versions.push_back(m_packages[i].version);
    auto best = pick_highest(versions, pattern);
    if (!best) {
        std::sort(versions.begin(), versions.end(),
                  [](const auto& a, const auto& b) { return compare_versions(a, b) < 0; });
        std::string available;
        for (const auto& v : versions)
            available += (available.empty() ? "" : ", ") + v.str();
        throw_input("no version of " + quote(name) + " matches " + quote(pattern.str()) +
                    " (available: " + available + ")");
    }
    return m_packages[it->second[*best]];
}

const DebPackage* PackageIndex::best_for(const Dependency& dep) const {
    const DebPackage* best = nullptr;
    if (auto it = m_by_name.find(dep.name); it != m_by_name.end())
        for (size_t i : it->second)
            if (dependency_met(m_packages[i], dep) &&
                (!best || compare_versions(m_packages[i].version, best->version) > 0))
                best = &m_packages[i];
    if (best)
        return best;
    // A virtual package: the provider first by name, then by highest version,
    // so that the choice does not depend on the index's order.
    if (auto it = m_providers.find(dep.name); it != m_providers.end())
        for (size_t i : it->second) {
            const DebPackage& p = m_packages[i];
            if (!dependency_met(p, dep))
                continue;
            if (!best || p.name < best->name ||
                (p.name == best->name && compare_versions(p.version, best->version) > 0))
                best = &p;
        }
    return best;
}

std::vector<const DebPackage*> PackageIndex::resolve(const std::vector<const DebPackage*>& roots,
                                                     const BaseSystem& base) const {
    std::map<std::string, const DebPackage*> chosen;
    std::vector<const DebPackage*> queue;
    auto take = [&](const DebPackage* p, const DebPackage* wanted_by) {
        auto [it, inserted] = chosen.emplace(p->name, p);
        if (!inserted && it->second != p)
            throw_input(quote(p->name) + ": " +
                        (wanted_by ? wanted_by->name + " " + wanted_by->version.str() + " needs " +
                                         p->version.str()
                                   : "asked for " + p->version.str()) +
                        ", but " + it->second->version.str() + " was already chosen");
        if (inserted)
            queue.push_back(p);
    };
    for (const DebPackage* r : roots)
        take(r, nullptr);
    while (!queue.empty()) {
        const DebPackage* p = queue.back();
        queue.pop_back();
        for (const auto& group : p->depends) {
            bool met = false;
            std::string too_old; // a base package that is there, at a version that does not fit
            for (const auto& dep : group) {
                if (auto b = base.packages.find(dep.name); b != base.packages.end()) {
                    if (!dep.version || !b->second ||
                        satisfies(*b->second, dep.relation, *dep.version))
                        met = true;
                    else if (too_old.empty())
                        too_old = dep.name + " " + b->second->str();
                }
                for (const auto& [name, q] : chosen)
                    if (!met && dependency_met(*q, dep))
                        met = true;
                if (met)
                    break;
            }
            if (met)
                continue;
            if (!too_old.empty())
                throw_input(p->name + " " + p->version.str() + " depends on " + group_str(group) +
                            ", but the base system (" + base.origin + ") has " + too_old);
            const DebPackage* pick = nullptr;
            for (const auto& dep : group)
                if ((pick = best_for(dep)))
                    break;
            if (!pick)
                throw_input(p->name + " " + p->version.str() + " depends on " + group_str(group) +
                            ", which no package in the " + m_architecture + " index satisfies");
            take(pick, p);
        }
    }
    std::vector<const DebPackage*> out;
    for (const auto& [name, p] : chosen)
        out.push_back(p);
    return out;
}

namespace {

// Whether the base or one of `chosen` fills one alternative of the group.
bool group_filled(const DependencyGroup& group, const std::vector<const DebPackage*>& chosen,
                  const BaseSystem& base) {
    for (const auto& dep : group) {
        if (auto b = base.packages.find(dep.name); b != base.packages.end())
            if (!dep.version || !b->second || satisfies(*b->second, dep.relation, *dep.version))
                return true;
        for (const DebPackage* q : chosen)
            if (dependency_met(*q, dep))
                return true;
    }
    return false;
}

} // namespace

const DebPackage* PackageIndex::recommended(const std::vector<const DebPackage*>& chosen,
                                            const std::string& name) const {
    for (const DebPackage* p : chosen)
        for (const auto& group : p->recommends)
            for (const auto& dep : group)
                if (dep.name == name)
                    if (const DebPackage* pick = best_for(dep))
                        return pick;
    return nullptr;
}

std::vector<std::string> PackageIndex::unmet_recommends(const std::vector<const DebPackage*>& chosen,
                                                        const BaseSystem& base) const {
    std::vector<std::string> out;
    for (const DebPackage* p : chosen)
        for (const auto& group : p->recommends)
            if (!group_filled(group, chosen, base)) {
                // Names only: "gpgv (>= 2.4)" and "gpgv (<< 2.5)" are one package.
                std::string names;
                for (const auto& dep : group)
                    names += (names.empty() ? "" : " | ") + dep.name;
                out.push_back(names + " (recommended by " + p->name + " " + p->version.str() + ")");
            }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

BaseSystem PackageIndex::minbase() const {
    std::vector<const DebPackage*> roots;
    for (const auto& [name, indices] : m_by_name) {
        const DebPackage* best = nullptr;
        for (size_t i : indices)
            if (!best || compare_versions(m_packages[i].version, best->version) > 0)
                best = &m_packages[i];
        if (best->priority == "required" || best->essential || name == "apt")
            roots.push_back(best);
    }
    // Sorted, so that alternatives are settled the same way every time.
    std::sort(roots.begin(), roots.end(),
              [](const DebPackage* a, const DebPackage* b) { return a->name < b->name; });
    BaseSystem base;
    base.origin = "minbase of the " + m_architecture + " index";
    for (const DebPackage* p : resolve(roots, BaseSystem{})) {
        base.add(p->name, p->version);
        for (const auto& prov : p->provides)
            base.add(prov.name, prov.relation == Relation::Equal ? prov.version : std::nullopt);
    }
    return base;
}

std::string read_index_file(const std::string& path, const std::string& origin, uint64_t max_size) {
    std::unique_ptr<archive, ArchiveReadDeleter> a(archive_read_new());
    if (!a)
        throw Error(ErrorKind::Internal, "archive_read_new failed");
    archive_read_support_filter_all(a.get());
    archive_read_support_format_raw(a.get());
    if (archive_read_open_filename(a.get(), path.c_str(), 65536) != ARCHIVE_OK)
        throw_input(origin + ": " + archive_reason(a.get()));
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF)
        return {};
    if (r != ARCHIVE_OK)
        throw_input(origin + ": " + archive_reason(a.get()));
    std::string out;
    char buf[65536];
    for (;;) {
        la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
        if (n < 0)
            throw_input(origin + ": " + archive_reason(a.get()));
        if (n == 0)
            break;
        if (static_cast<uint64_t>(n) > max_size - out.size())
            throw_input(origin + ": decompresses to more than " + std::to_string(max_size) +
                        " bytes");
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

} // namespace sysext::source

#include "sysext/pipeline/build.hpp"

#include "sysext/profile/assemble.hpp"
#include "sysext/profile/profile.hpp"
#include "sysext/release/release.hpp"
#include "sysext/source/debian_fetch.hpp"
#include "sysext/source/directory.hpp"
#include "sysext/source/fetch.hpp"
#include "sysext/source/lock.hpp"
#include "sysext/source/package_source.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"
#include "sysext/validate/validate.hpp"

#include <filesystem>
#include <sys/stat.h>

namespace sysext::pipeline {

namespace fs = std::filesystem;

std::string debian_architecture(const std::string& arch) {
    if (arch == "x86-64")
        return "amd64";
    if (arch == "arm64")
        return "arm64";
    if (arch == "x86")
        return "i386";
    if (arch == "arm")
        return "armhf";
    if (arch == "riscv64")
        return "riscv64";
    if (arch == "ppc64-le")
        return "ppc64el";
    if (arch == "s390x")
        return "s390x";
    throw_usage("--arch: no Debian architecture for " + quote(arch));
}

std::string multiarch_triplet(const std::string& arch) {
    if (arch == "x86-64")
        return "x86_64-linux-gnu";
    if (arch == "arm64")
        return "aarch64-linux-gnu";
    if (arch == "x86")
        return "i386-linux-gnu";
    if (arch == "arm")
        return "arm-linux-gnueabihf";
    if (arch == "riscv64")
        return "riscv64-linux-gnu";
    if (arch == "ppc64-le")
        return "powerpc64le-linux-gnu";
    if (arch == "s390x")
        return "s390x-linux-gnu";
    return "";
}

namespace {

// A scratch directory in the output directory (same file system as the image),
// removed whatever happens.
class WorkDir {
public:
    explicit WorkDir(const std::string& parent) {
        std::string tmpl = parent + "/.sysext-build-work.XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr)
            throw_errno(parent + ": cannot create a work directory");
        m_path = tmpl;
    }
    ~WorkDir() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

std::string relative_to(const std::string& dir, const std::string& path) {
    return path.empty() || path[0] == '/' ? path : dir + "/" + path;
}

struct Context {
    const BuildOptions& options;
    const profile::Profile& profile;
    const profile::TargetSpec& target;
    profile::Vars vars;
    source::SourceOptions source_options;
    source::Fetcher fetcher;
    source::LockFile lock;
    std::optional<source::LockFile> lock_in;
    std::map<std::string, std::string> versions; // package -> Debian version
    Reporter& reporter;
    std::vector<std::string> problems;
};

// Loads one source into `into` (directly, or through a staging tree when it
// selects a subset).
void add_source(Context& ctx, const profile::SourceSpec& s, tree::Tree& into) {
    tree::Tree staging;
    staging.set_default_mtime(ctx.source_options.mtime);
    tree::Tree& dest = s.select.empty() && s.prefix.empty() ? into : staging;
    source::SourceOptions so = ctx.source_options;
    auto add_file = [&](const std::string& path) {
        source::add_package(dest, path, so, ctx.problems, ctx.reporter);
    };
    if (s.type == "debian") {
        source::DebFetchResult fetched;
        std::vector<std::string> names;
        for (const auto& p : s.packages)
            names.push_back(source::parse_package_request(profile::expand(p, ctx.vars, s.origin)).name);
        if (ctx.lock_in) {
            fetched = source::fetch_locked_debs(*ctx.lock_in, {}, ctx.options.mirror, ctx.fetcher,
                                                ctx.reporter);
        } else {
            source::DebFetchRequest req;
            req.mirror = ctx.options.mirror.empty() ? profile::expand(s.mirror, ctx.vars, s.origin)
                                                    : ctx.options.mirror;
            req.suite = profile::expand(s.suite, ctx.vars, s.origin);
            req.components = s.components;
            req.architecture = ctx.vars.at("debian_arch");
            req.keyring = ctx.options.keyring;
            req.with_depends = s.with_dependencies;
            if (!s.base_system.empty())
                req.base = source::read_base_system(relative_to(ctx.profile.dir(), s.base_system));
            for (const auto& p : s.packages) {
                auto r = source::parse_package_request(profile::expand(p, ctx.vars, s.origin));
                if (r.name == ctx.profile.version_from)
                    r.pattern = source::VersionPattern::parse(ctx.options.version);
                req.packages.push_back(std::move(r));
            }
            fetched = source::fetch_debs(req, ctx.fetcher, ctx.reporter);
        }
        for (const auto& d : fetched.debs) {
            ctx.reporter.stage("unpacking " + d.entry.name + " " + d.entry.version);
            add_file(d.path);
            ctx.versions[d.entry.name] = d.entry.version;
            ctx.lock.add(d.entry);
        }
    } else if (s.type == "directory") {
        source::add_directory(dest, relative_to(ctx.profile.dir(), profile::expand(s.path, ctx.vars, s.origin)),
                              so, ctx.problems, ctx.reporter);
    } else if (s.type == "package") {
        add_file(relative_to(ctx.profile.dir(), profile::expand(s.path, ctx.vars, s.origin)));
    } else if (s.type == "url") {
        std::string url = profile::expand(s.url, ctx.vars, s.origin);
        auto r = ctx.fetcher.fetch(url, s.sha256);
        add_file(r.path);
        source::LockEntry e;
        e.kind = "url";
        e.name = url.substr(url.rfind('/') + 1);
        e.url = url;
        e.sha256 = s.sha256;
        e.size = r.size;
        ctx.lock.add(e);
    }
    if (&dest == &staging) {
        std::vector<std::string> globs = s.select;
        if (globs.empty())
            globs.push_back("**");
        for (auto& g : globs)
            g = profile::expand(g, ctx.vars, s.origin);
        std::string prefix = profile::expand(s.prefix, ctx.vars, s.origin);
        if (profile::copy_selected(staging, into, globs, prefix, s.origin.str()) == 0)
            ctx.problems.push_back(s.origin.str() + ": the source's \"select\" matched nothing");
    }
}

// Profile release keys (target over profile) to extension-release fields.
release::Fields release_fields(const Context& ctx) {
    std::map<std::string, std::string> kv = ctx.profile.release;
    for (const auto& [k, v] : ctx.target.release)
        kv[k] = v;
    if (!kv.count("ARCHITECTURE"))
        kv["ARCHITECTURE"] = ctx.options.architecture;
    release::Fields f;
    for (const auto& [key, raw] : kv) {
        std::string v = profile::expand(raw, ctx.vars, ctx.target.origin);
        if (key == "ID")
            f.os_id = v;
        else if (key == "VERSION_ID")
            f.version_id = v;
        else if (key == "SYSEXT_LEVEL")
            f.sysext_level = v;
        else if (key == "ARCHITECTURE")
            f.architecture = v;
        else if (key == "SYSEXT_SCOPE")
            f.scope = v;
        else if (key == "EXTENSION_RELOAD_MANAGER")
            f.reload_manager = v == "1";
        else
            f.extra.emplace_back(key, v);
    }
    return f;
}

std::string upstream_of(const std::string& debian_version) {
    return source::DebianVersion::parse(debian_version).upstream;
}

} // namespace

BuildResult build(const BuildOptions& o, Reporter& reporter) {
    // Load the profile and choose the target.
    reporter.stage("reading " + o.profile);
    const profile::Profile prof = profile::load(o.profile);
    const std::string target_name = o.target.empty() ? prof.default_target : o.target;
    auto tit = prof.targets.find(target_name);
    if (tit == prof.targets.end()) {
        std::string names;
        for (const auto& [n, t] : prof.targets)
            names += (names.empty() ? "" : ", ") + n;
        throw_usage("--target: " + quote(target_name) + " is not a target of " + o.profile + " (" + names + ")");
    }
    const profile::TargetSpec& target = tit->second;
    if (!release::known_architecture(o.architecture) || o.architecture == "_any")
        throw_usage("--arch: unknown architecture " + quote(o.architecture) + " (systemd's names: x86-64, arm64, ...)");
    if (!prof.architectures.empty() &&
        std::find(prof.architectures.begin(), prof.architectures.end(), o.architecture) == prof.architectures.end())
        throw_usage("--arch: " + o.profile + " is not built for " + o.architecture +
                    " (its \"architectures\": " + [&] {
                        std::string a;
                        for (const auto& x : prof.architectures)
                            a += (a.empty() ? "" : ", ") + x;
                        return a;
                    }() + ")");

    fs::create_directories(o.output_dir);
    WorkDir work(o.output_dir);
    fs::create_directory(work.path() + "/blobs");

    source::FetchOptions fo;
    fo.cache_dir = o.download_cache;
    fo.reporter = &reporter;
    Context ctx{o, prof, target, {}, {}, source::Fetcher(fo), {}, {}, {}, reporter, {}};
    ctx.vars = o.vars;
    ctx.vars["name"] = prof.name;
    ctx.vars["arch"] = o.architecture;
    ctx.vars["triplet"] = multiarch_triplet(o.architecture);
    ctx.vars["target"] = target_name;
    try {
        ctx.vars["debian_arch"] = debian_architecture(o.architecture);
    } catch (const Error&) {
        ctx.vars["debian_arch"] = "";
    }
    for (const auto& req : target.requires_vars)
        if (!ctx.vars.count(req))
            throw_usage("target " + quote(target_name) + " needs --set " + req + "=VALUE");
    ctx.source_options.mtime = o.mtime;
    ctx.source_options.blob_dir = work.path() + "/blobs";
    if (!o.lock_in.empty())
        ctx.lock_in = source::LockFile::read(o.lock_in);

    // Resolve and fetch the sources, then assemble the tree.
    tree::Tree tree;
    tree.set_default_mtime(o.mtime);
    for (const auto& s : target.sources)
        add_source(ctx, s, tree);

    BuildResult r;
    r.name = target.image.empty() ? prof.name : profile::expand(target.image, ctx.vars, target.origin);
    r.target = target_name;
    r.architecture = o.architecture;
    if (!prof.version_from.empty() && ctx.versions.count(prof.version_from))
        r.version = upstream_of(ctx.versions[prof.version_from]);
    else if (ctx.vars.count("version"))
        r.version = ctx.vars["version"];
    else
        throw_usage("cannot tell the version of " + prof.name + "; give --set version=VERSION");
    ctx.vars["version"] = r.version;
    ctx.vars["image"] = r.name;

    reporter.stage("assembling");
    profile::apply_layout(prof, tree, ctx.vars, o.mtime);

    // The release metadata systemd matches against the host.
    release::Fields rel = release_fields(ctx);
    for (auto& p : release::check(rel, o.profile))
        ctx.problems.push_back(std::move(p));
    r.release_text = release::render(rel);
    {
        tree::Node n;
        n.type = tree::NodeType::File;
        n.mtime = o.mtime;
        n.origin = o.profile;
        auto bytes = std::make_shared<std::string>(r.release_text);
        n.content = {tree::Content::Kind::Inline, "", bytes, nullptr, 0, bytes->size()};
        tree.add(release::release_path(r.name), std::move(n), /*replace=*/true);
    }

    // Check everything before packing: components, the tree, the binaries.
    reporter.stage("checking");
    for (auto& p : profile::check_components(prof, tree, ctx.vars))
        ctx.problems.push_back(std::move(p));
    for (auto& p : validate::check_tree(tree, {r.name}))
        ctx.problems.push_back(std::move(p));
    if (!ctx.problems.empty())
        throw MultiError(ErrorKind::Input, std::move(ctx.problems));
    tree.finalize();
    r.entries = tree.count();
    for (const auto& c : prof.components) {
        std::string pkg = c.package.empty() ? c.name : c.package;
        r.components[c.name] = ctx.versions.count(pkg) ? ctx.versions[pkg] : "";
    }

    // Pack, then write the lock file: it names exactly what went in.
    r.image = o.output_dir + "/" + r.name + ".raw";
    AtomicFile out(r.image);
    squashfs::WriterOptions wo = o.writer;
    wo.mtime = o.mtime;
    squashfs::write_image(tree, out.fd(), wo, reporter);
    reporter.stage("hashing");
    r.sha256 = to_hex(sha256_file(out.temp_path()));
    struct stat st;
    if (::fstat(out.fd(), &st) == 0)
        r.size = static_cast<uint64_t>(st.st_size);
    out.commit();
    r.lock = o.output_dir + "/" + r.name + ".lock.json";
    (ctx.lock_in ? *ctx.lock_in : ctx.lock).write(r.lock);
    for (const auto& e : (ctx.lock_in ? *ctx.lock_in : ctx.lock).entries())
        r.inputs.push_back({e.name, e.version, e.sha256});
    return r;
}

} // namespace sysext::pipeline

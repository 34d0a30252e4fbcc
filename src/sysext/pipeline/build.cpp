#include "sysext/pipeline/build.hpp"

#include "payload/writer.hpp"
#include "sysext/profile/assemble.hpp"
#include "sysext/profile/profile.hpp"
#include "sysext/release/release.hpp"
#include "sysext/source/debian_fetch.hpp"
#include "sysext/source/directory.hpp"
#include "sysext/source/fetch.hpp"
#include "sysext/source/lock.hpp"
#include "sysext/source/package_source.hpp"
#include "sysext/tree/content_reader.hpp"
#include "signing/certificate.hpp"
#include "signing/key.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/cleanup.hpp"
#include "sysext/verity/signed_image.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"
#include "sysext/validate/elf.hpp"
#include "sysext/validate/host_overlay.hpp"
#include "sysext/validate/validate.hpp"

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sysext::pipeline {

namespace fs = std::filesystem;

namespace {

// Debian's name and multiarch triplet for each systemd architecture Debian builds.
struct DebianArch {
    const char* systemd;
    const char* debian;
    const char* triplet;
};
constexpr DebianArch k_debian_archs[] = {
    {"x86-64", "amd64", "x86_64-linux-gnu"},
    {"arm64", "arm64", "aarch64-linux-gnu"},
    {"x86", "i386", "i386-linux-gnu"},
    {"arm", "armhf", "arm-linux-gnueabihf"},
    {"riscv64", "riscv64", "riscv64-linux-gnu"},
    {"ppc64-le", "ppc64el", "powerpc64le-linux-gnu"},
    {"s390x", "s390x", "s390x-linux-gnu"},
};

const DebianArch* find_debian_arch(const std::string& arch) {
    for (const auto& a : k_debian_archs)
        if (arch == a.systemd)
            return &a;
    return nullptr;
}

} // namespace

std::string debian_architecture(const std::string& arch) {
    if (const DebianArch* a = find_debian_arch(arch))
        return a->debian;
    throw_usage("--arch: no Debian architecture for " + quote(arch));
}

std::string multiarch_triplet(const std::string& arch) {
    const DebianArch* a = find_debian_arch(arch);
    return a ? a->triplet : "";
}

namespace {

// A scratch directory in the output directory (same file system as the image),
// removed whatever happens (cleanup.hpp: also on SIGINT/SIGTERM, and by the next
// run after a SIGKILL).
class WorkDir : public cleanup::TempDir {
public:
    explicit WorkDir(const std::string& parent) : TempDir(parent, ".sysext-build-work.") {}
};

std::string relative_to(const std::string& dir, const std::string& path) {
    return path.empty() || path[0] == '/' ? path : dir + "/" + path;
}

// Reports with the download cache's file names replaced by what the user knows
// (the package's file name or URL).
class LabelReporter : public Reporter {
public:
    LabelReporter(Reporter& out, std::string from, std::string to)
        : m_out(out), m_from(std::move(from)), m_to(std::move(to)) {}
    void stage(std::string_view s) override { m_out.stage(replace_all(std::string(s), m_from, m_to)); }
    void progress(uint64_t done, uint64_t total) override { m_out.progress(done, total); }
    void warn(std::string_view s) override { m_out.warn(replace_all(std::string(s), m_from, m_to)); }
    void info(std::string_view s) override { m_out.info(replace_all(std::string(s), m_from, m_to)); }

private:
    Reporter& m_out;
    std::string m_from, m_to;
};

// add_package() for a file whose messages should name `label`, not `path`.
void add_labelled(tree::Tree& dest, const std::string& path, const std::string& label,
                  const source::SourceOptions& options, std::vector<std::string>& problems,
                  Reporter& reporter) {
    LabelReporter labelled(reporter, path, label);
    std::vector<std::string> found;
    try {
        source::add_package(dest, path, options, found, labelled);
    } catch (const Error& e) {
        throw Error(e.kind(), replace_all(e.what(), path, label));
    }
    for (auto& p : found)
        problems.push_back(replace_all(p, path, label));
    dest.walk([&](tree::Node& n) {
        if (starts_with(n.origin, path))
            n.origin = label + n.origin.substr(path.size());
    });
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
    bool locked_debs_added = false; // a lock's .debs go in once, with the first debian source
    Reporter& reporter;
    std::vector<std::string> problems;
    std::vector<std::string> left_out_recommends;
};

// The SHA-256 a url source is pinned to: the one for the architecture, or the
// string with its variables expanded; either way 64 lowercase hex digits.
std::string pinned_sha256(const Context& ctx, const profile::SourceSpec& s) {
    if (!s.sha256_by_arch.empty()) {
        auto it = s.sha256_by_arch.find(ctx.options.architecture);
        if (it != s.sha256_by_arch.end())
            return it->second;
        std::string have;
        for (const auto& [arch, sha] : s.sha256_by_arch)
            have += (have.empty() ? "" : ", ") + arch;
        throw_usage(s.origin.str() + ": the url source has no sha256 for " +
                    ctx.options.architecture + " (it has: " + have + ")");
    }
    std::string sha = profile::expand(s.sha256, ctx.vars, s.origin);
    if (sha.size() != 64 || sha.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw_input(s.origin.str() + ": sha256 " + quote_untrusted(sha) + " (from " +
                    quote(s.sha256) + ") is not 64 lowercase hex digits");
    return sha;
}

// tar's --strip-components for a loaded source: entries `n` directories deep
// become top-level ones; entries above that depth are left out.
void strip_components(tree::Tree& t, unsigned n, uint32_t mtime, const std::string& origin) {
    auto depth = [](const std::string& path) {
        return static_cast<unsigned>(std::count(path.begin(), path.end(), '/'));
    };
    std::vector<std::string> at_depth;
    t.walk([&](const tree::Node& node) {
        std::string path = node.path();
        if (path.empty() || depth(path) < n)
            return;
        // A kept hard link must not name a file that is left out.
        if (node.hardlink && depth(node.hardlink->path()) < n)
            throw_input(origin + ": strip_components " + std::to_string(n) + " keeps " +
                        quote_untrusted(path) + " but leaves out " +
                        quote_untrusted(node.hardlink->path()) + ", the file it is a hard link to");
        if (depth(path) == n)
            at_depth.push_back(std::move(path));
    });
    tree::Tree stripped;
    stripped.set_default_mtime(mtime);
    const std::string why = origin + " (strip_components " + std::to_string(n) + ")";
    for (const auto& path : at_depth) {
        std::string rest = path;
        for (unsigned i = 0; i < n; ++i)
            rest = rest.substr(rest.find('/') + 1);
        stripped.attach(rest, t.detach(path), why);
    }
    t = std::move(stripped);
}

// A digest of what a local source contributed: every entry's path, type, mode,
// owner, link target, content and xattrs, in path order. The lock and the
// manifest record it, so that a rebuild can tell a changed directory.
std::pair<std::string, uint64_t> tree_digest(const tree::Tree& t) {
    Sha256 h;
    uint64_t bytes = 0;
    t.walk([&](const tree::Node& n) {
        std::string rec = n.path() + '\0' + std::to_string(static_cast<int>(n.type)) + '\0' +
                          std::to_string(n.mode) + '\0' + std::to_string(n.uid) + ':' +
                          std::to_string(n.gid) + '\0' + n.link_target + '\0';
        if (n.hardlink)
            rec += "=" + n.hardlink->path();
        else if (n.type == tree::NodeType::File) {
            const tree::Content& c = n.content;
            if (c.kind == tree::Content::Kind::Disk)
                rec += to_hex(sha256_file(c.disk_path));
            else if (c.kind == tree::Content::Kind::Inline && c.bytes)
                rec += to_hex(sha256(*c.bytes));
            bytes += c.size;
        }
        for (const auto& x : n.xattrs)
            rec += '\0' + x.key + '=' + x.value;
        h.update(rec + '\n');
    });
    return {to_hex(h.finish()), bytes};
}

// Records a local input in the lock; a rebuild from a lock refuses one that changed.
void lock_local(Context& ctx, source::LockEntry e) {
    if (ctx.lock_in)
        for (const auto& old : ctx.lock_in->entries())
            if (old.kind == e.kind && old.name == e.name && old.sha256 != e.sha256)
                throw_input(e.name + ": the " + e.kind + " differs from the one " +
                            ctx.options.lock_in + " recorded (SHA-256 " + e.sha256 + ", the lock has " +
                            old.sha256 + ")");
    ctx.lock.add(std::move(e));
}

// Loads one source into `into` (directly, or through a staging tree when it
// selects a subset, strips leading directories, or is a local directory whose
// digest goes into the lock).
void add_source(Context& ctx, const profile::SourceSpec& s, size_t number, tree::Tree& into) {
    // A local input's name in the lock and the manifest: as the profile names it
    // ("${root}", "files/x.tar", not where it lies on this machine), and which
    // source of the target it is (one directory may be two sources).
    const std::string local_name = s.path + " (source " + std::to_string(number) + ")";
    tree::Tree staging;
    staging.set_default_mtime(ctx.source_options.mtime);
    const bool staged = !s.select.empty() || !s.prefix.empty() || s.strip_components > 0 ||
                        s.type == "directory";
    tree::Tree& dest = staged ? staging : into;
    source::SourceOptions so = ctx.source_options;
    auto add_file = [&](const std::string& path, const std::string& label) {
        add_labelled(dest, path, label, so, ctx.problems, ctx.reporter);
    };
    if (s.type == "debian") {
        source::DebFetchResult fetched;
        if (ctx.lock_in) {
            // The lock does not say which source a .deb came from (dependencies
            // are shared), so all of them go in with the first debian source.
            if (ctx.locked_debs_added)
                return;
            ctx.locked_debs_added = true;
            fetched = source::fetch_locked_debs(*ctx.lock_in, {}, ctx.options.mirror, ctx.fetcher,
                                                ctx.reporter);
        } else {
            source::DebFetchRequest req;
            req.mirror = ctx.options.mirror.empty() ? profile::expand(s.mirror, ctx.vars, s.origin)
                                                    : ctx.options.mirror;
            req.suite = profile::expand(s.suite, ctx.vars, s.origin);
            req.components = s.components;
            if (ctx.options.architecture == "_any")
                throw_usage(s.origin.str() + ": a debian source needs an architecture; --arch _any "
                                             "is for architecture-independent content (directories, "
                                             "archives of scripts and data)");
            req.architecture = ctx.vars.at("debian_arch");
            req.keyring = ctx.options.keyring;
            req.with_depends = s.with_dependencies;
            for (const auto& r : s.recommends)
                req.recommends.push_back(profile::expand(r, ctx.vars, s.origin));
            if (!s.base_system.empty())
                req.base = source::read_base_system(relative_to(ctx.profile.dir(), s.base_system));
            for (const auto& p : s.packages) {
                auto r = source::parse_package_request(profile::expand(p, ctx.vars, s.origin));
                if (r.name == ctx.profile.version_from)
                    r.pattern = source::VersionPattern::parse(ctx.options.version);
                req.packages.push_back(std::move(r));
            }
            fetched = source::fetch_debs(req, ctx.fetcher, ctx.reporter);
            for (const auto& r : fetched.left_out_recommends) {
                ctx.reporter.info("left out recommended package " + r);
                ctx.left_out_recommends.push_back(r);
            }
        }
        for (const auto& d : fetched.debs) {
            ctx.reporter.stage("unpacking " + d.entry.name + " " + d.entry.version);
            std::string file = d.entry.filename.empty() ? d.entry.url : d.entry.filename;
            add_file(d.path, file.substr(file.rfind('/') + 1));
            ctx.versions[d.entry.name] = d.entry.version;
            ctx.lock.add(d.entry);
        }
    } else if (s.type == "directory") {
        std::string path = profile::expand(s.path, ctx.vars, s.origin);
        source::add_directory(dest, relative_to(ctx.profile.dir(), path), so, ctx.problems,
                              ctx.reporter);
        // Recorded below, once "select" has picked what the image takes.
    } else if (s.type == "package") {
        std::string path =
            relative_to(ctx.profile.dir(), profile::expand(s.path, ctx.vars, s.origin));
        add_file(path, path);
        source::LockEntry e;
        e.kind = "package";
        e.name = local_name;
        e.sha256 = to_hex(sha256_file(path));
        e.size = std::filesystem::file_size(path);
        lock_local(ctx, std::move(e));
    } else if (s.type == "url") {
        std::string url = profile::expand(s.url, ctx.vars, s.origin);
        std::string sha = pinned_sha256(ctx, s);
        auto r = ctx.fetcher.fetch(url, sha);
        add_file(r.path, url);
        source::LockEntry e;
        e.kind = "url";
        e.name = url.substr(url.rfind('/') + 1);
        e.url = url;
        e.sha256 = sha;
        e.size = r.size;
        ctx.lock.add(e);
    }
    if (staged) {
        if (s.strip_components > 0)
            strip_components(staging, s.strip_components, ctx.source_options.mtime, s.origin.str());
        std::vector<std::string> globs = s.select;
        if (globs.empty())
            globs.push_back("**");
        for (auto& g : globs)
            g = profile::expand(g, ctx.vars, s.origin);
        std::string prefix = profile::expand(s.prefix, ctx.vars, s.origin);
        tree::Tree picked;
        picked.set_default_mtime(ctx.source_options.mtime);
        if (profile::copy_selected(staging, picked, globs, prefix, s.origin.str()) == 0 &&
            !s.select.empty())
            ctx.problems.push_back(s.origin.str() + ": the source's \"select\" matched nothing");
        if (s.type == "directory") {
            source::LockEntry e;
            e.kind = "directory";
            e.name = local_name;
            std::tie(e.sha256, e.size) = tree_digest(picked);
            lock_local(ctx, std::move(e));
        }
        profile::copy_selected(picked, into, {"**"}, "", s.origin.str());
    }
}

// Profile release keys (target over profile) to extension-release fields.
release::Fields release_fields(const Context& ctx) {
    std::map<std::string, std::string> kv = ctx.profile.release;
    for (const auto& [k, v] : ctx.target.release)
        kv[k] = v;
    // --arch _any: no ARCHITECTURE=, which systemd reads as any architecture.
    if (!kv.count("ARCHITECTURE") && ctx.options.architecture != "_any")
        kv["ARCHITECTURE"] = ctx.options.architecture;
    for (auto& [key, value] : kv)
        value = profile::expand(value, ctx.vars, ctx.target.origin);
    return release::to_fields(kv);
}

// Every ELF file must suit the architecture and find its loader and libraries
// in the extension or the target base system.
void check_binaries(Context& ctx, const tree::Tree& tree, BuildResult& r, bool any_host) {
    const BuildOptions& o = ctx.options;
    // An image for any architecture holds no machine code (scripts and data only),
    // checked whatever --no-elf-check says: no host would run it.
    if (o.architecture == "_any") {
        std::vector<std::string> problems;
        tree.walk([&](const tree::Node& n) {
            if (!n.is_file() || n.content.size < 4)
                return;
            char magic[4] = {};
            if (n.content.kind == tree::Content::Kind::Inline && n.content.bytes)
                std::memcpy(magic, n.content.bytes->data(), 4);
            else if (n.content.kind == tree::Content::Kind::Disk) {
                Fd fd = open_or_throw(n.content.disk_path, O_RDONLY | O_CLOEXEC);
                if (::pread(fd.get(), magic, 4, 0) != 4)
                    return;
            }
            if (std::memcmp(magic, "\x7f" "ELF", 4) == 0)
                problems.push_back(n.path() + ": an ELF file in an image for any architecture "
                                              "(--arch _any); build it for each architecture");
        });
        if (!problems.empty())
            throw MultiError(ErrorKind::Input, std::move(problems));
    }
    if (!o.elf_check)
        return;
    validate::ElfCheckOptions eo;
    eo.architecture = o.architecture;
    eo.glibc = profile::expand(ctx.target.glibc, ctx.vars, ctx.target.origin);
    eo.any_host = any_host;
    // What an image for any host, or the glibc a target promises, asks of its
    // binaries needs no base system: checked even when the libraries are not.
    auto versions_only = [&](const std::string& why) {
        ctx.reporter.warn("ELF check of libraries skipped: " + why);
        if (!eo.any_host && eo.glibc.empty())
            return;
        eo.libraries = false;
        auto report = validate::check_elf(tree, eo);
        r.elf_checked = report.elf_files;
        if (!report.problems.empty())
            throw MultiError(ErrorKind::Input, std::move(report.problems));
    };
    std::optional<validate::BaseLibraries> base;
    if (!o.base_root.empty()) {
        base = validate::BaseLibraries::from_root(o.base_root);
    } else if (!o.base_list.empty()) {
        base = validate::BaseLibraries::from_listing(o.base_list);
    } else if (!ctx.target.base_files.empty()) {
        std::string listing = relative_to(ctx.profile.dir(),
                                          profile::expand(ctx.target.base_files, ctx.vars, ctx.target.origin));
        struct stat st;
        if (::stat(listing.c_str(), &st) != 0)
            return versions_only("no base system listing " + listing +
                                 " (give --base-root or --base-list)");
        base = validate::BaseLibraries::from_listing(listing);
    } else {
        return versions_only("no base system (give --base-root or --base-list)");
    }
    ctx.reporter.stage("checking binaries");
    eo.base = &*base;
    auto report = validate::check_elf(tree, eo);
    r.elf_checked = report.elf_files;
    if (!report.problems.empty())
        throw MultiError(ErrorKind::Input, std::move(report.problems));
}

// The image's files a typical host of the target has too (the target's
// "host_files"): a warning naming them, and the list in the result.
void report_host_overlays(Context& ctx, const tree::Tree& tree, BuildResult& r) {
    if (ctx.target.host_files.empty())
        return;
    r.host_listing = relative_to(ctx.profile.dir(), profile::expand(ctx.target.host_files, ctx.vars,
                                                                      ctx.target.origin));
    struct stat st;
    if (::stat(r.host_listing.c_str(), &st) != 0) {
        ctx.reporter.warn("files replacing the host's not checked: no host listing " +
                          r.host_listing);
        r.host_listing.clear();
        return;
    }
    std::vector<std::string> paths;
    tree.walk([&](const tree::Node& n) {
        if (!n.is_dir() && n.parent)
            paths.push_back(n.path());
    });
    validate::HostOverlay overlay =
        validate::host_overlay(paths, validate::read_host_listing(r.host_listing));
    r.host_overlays = overlay.files;
    if (std::string text = validate::describe(overlay, r.host_listing); !text.empty())
        ctx.reporter.warn("the image " + text);
}

// The upstream version a release is named after: Debian's repack suffixes
// ("5.4.2+ds1", "1.2+dfsg2", "3.0+repack1") are the packaging's, not upstream's;
// the exact package versions stay in the lock file and the manifest.
std::string upstream_of(const std::string& debian_version) {
    std::string v = source::DebianVersion::parse(debian_version).upstream;
    for (const char* suffix : {"+ds", "+dfsg", "+repack"}) {
        const size_t at = v.rfind(suffix);
        if (at != std::string::npos && at > 0 &&
            v.find_first_not_of("0123456789.", at + std::strlen(suffix)) == std::string::npos)
            return v.substr(0, at);
    }
    return v;
}

// The target's required variables are all set, and --set names only variables
// the profile uses: a misspelt or stale one is an error,
// not a silent no-op. Variables sysext-build sets itself come from their flags,
// and a profile that takes its version from a package has it chosen by --version.
void check_set_variables(const BuildOptions& o, const profile::Profile& prof,
                         const profile::TargetSpec& target, const std::string& target_name) {
    static const std::map<std::string, std::string> own = {
        {"name", "the profile"},     {"arch", "--arch"},         {"triplet", "--arch"},
        {"debian_arch", "--arch"},   {"target", "--target"},     {"image", "the profile"},
        {"unit_version", "the version"}};
    std::vector<std::string> usable(prof.variables.begin(), prof.variables.end());
    usable.insert(usable.end(), target.requires_vars.begin(), target.requires_vars.end());
    // The version is the package's, unless the target has no package to take it
    // from (its sources are directories: it requires --set version=).
    const bool version_settable =
        prof.version_from.empty() || std::find(target.requires_vars.begin(),
                                               target.requires_vars.end(),
                                               "version") != target.requires_vars.end();
    if (version_settable)
        usable.push_back("version");
    std::string missing; // all at once
    for (const auto& req : target.requires_vars)
        if (!o.vars.count(req) && !own.count(req))
            missing += " --set " + req + "=VALUE";
    if (!missing.empty())
        throw_usage("target " + quote(target_name) + " needs" + missing);
    for (const auto& [key, value] : o.vars) {
        if (auto it = own.find(key); it != own.end())
            throw_usage("--set " + key + ": ${" + key + "} is set by sysext-build from " +
                        it->second);
        if (key == "version" && !version_settable)
            throw_usage("--set version=" + value + ": " + o.profile +
                        " takes its version from the package " + quote(prof.version_from) +
                        "; choose it with --version PATTERN, or make a new release of the same "
                        "version with --revision N");
        if (std::find(usable.begin(), usable.end(), key) != usable.end())
            continue;
        std::vector<std::string> settable;
        for (const auto& v : usable)
            if (!own.count(v) && std::find(settable.begin(), settable.end(), v) == settable.end() &&
                !(v == "version" && !version_settable))
                settable.push_back(v);
        std::string hint = nearest(key, settable);
        std::string list;
        for (const auto& v : settable)
            list += (list.empty() ? "" : ", ") + v;
        throw_usage("--set " + key + ": " + o.profile + " (target " + quote(target_name) +
                    ") uses no variable ${" + key + "}" +
                    (hint.empty() ? "" : "; did you mean " + hint + "?") +
                    (list.empty() ? " (it takes none)" : " (it takes: " + list + ")"));
    }
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
    if (!release::known_architecture(o.architecture)) {
        std::string hint = release::architecture_hint(o.architecture);
        throw_usage("--arch: unknown architecture " + quote(o.architecture) +
                    (hint.empty() ? "" : " (did you mean " + quote(hint) + "?)") +
                    "; systemd's names: x86-64, arm64, ...");
    }
    if (!prof.architectures.empty() &&
        std::find(prof.architectures.begin(), prof.architectures.end(), o.architecture) == prof.architectures.end())
        throw_usage("--arch: " + o.profile + " is not built for " + o.architecture +
                    " (its \"architectures\": " + [&] {
                        std::string a;
                        for (const auto& x : prof.architectures)
                            a += (a.empty() ? "" : ", ") + x;
                        return a;
                    }() + ")");

    check_set_variables(o, prof, target, target_name);

    // Keys and certificate before any work: a bad key, key file mode or
    // passphrase fails early. A passphrase descriptor is read once, for all keys.
    std::optional<signing::PassphraseText> passphrase;
    if (o.passphrase_fd >= 0 && (!o.key.empty() || !o.payload_keys.empty()))
        passphrase.emplace(signing::PassphraseText::read_fd(
            o.passphrase_fd, o.key.empty() ? o.payload_keys.front() : o.key));
    auto key_spec = [&](const std::string& ref) {
        signing::KeySpec spec{ref, o.passphrase_fd, o.passphrase_env, o.force_insecure_key};
        spec.passphrase_text = passphrase ? &passphrase->text() : nullptr;
        return spec;
    };
    std::optional<signing::PrivateKey> key;
    std::optional<signing::Certificate> cert;
    if (!o.key.empty() || !o.cert.empty()) {
        if (o.key.empty() || o.cert.empty())
            throw_usage("signing needs both --key and --cert");
        key.emplace(signing::PrivateKey::load(key_spec(o.key)));
        cert.emplace(signing::Certificate::load(o.cert));
    }
    std::vector<signing::PrivateKey> payload_keys;
    for (const auto& k : o.payload_keys)
        payload_keys.push_back(signing::PrivateKey::load(key_spec(k)));
    const std::vector<size_t> payload_room = payload::rsa2048_signature_sizes(o.payload_signatures);

    profile::Vars vars = o.vars;
    vars["name"] = prof.name;
    vars["arch"] = o.architecture;
    vars["triplet"] = multiarch_triplet(o.architecture);
    vars["target"] = target_name;
    try {
        vars["debian_arch"] = debian_architecture(o.architecture);
    } catch (const Error&) {
        vars["debian_arch"] = "";
    }

    // The file system and its settings, before any work: a setting of the
    // wrong format, or a disk image without a key, fails at once.
    const ImageSettings settings =
        resolve_image_settings(o.packing, matching_rule(target, vars), o.mtime);
    const bool ddi = o.ddi || settings.disk_image;
    if (o.architecture == "_any" && ddi)
        throw_usage(std::string(o.ddi ? "--ddi" : settings.rule + ": \"disk_image\"") +
                    ": a disk image's partition types name an architecture; an image for "
                    "any architecture (--arch _any) is signed with sidecar files");
    if (ddi && !key)
        throw_usage(o.ddi ? std::string("--ddi needs --key and --cert")
                          : "target " + quote(target_name) + ": " + settings.rule +
                                " makes a signed " + image_format_name(settings.format) +
                                " disk image here, as the target's hosts take it: give --key and "
                                "--cert (or --format for a bare image)");

    fs::create_directories(o.output_dir);
    WorkDir work(o.output_dir);
    fs::create_directory(work.path() + "/blobs");

    source::FetchOptions fo;
    fo.cache_dir = o.download_cache;
    fo.reporter = &reporter;
    Context ctx{o, prof, target, {}, {}, source::Fetcher(fo), {}, {}, {}, false, reporter, {}, {}};
    ctx.vars = std::move(vars);
    ctx.source_options.mtime = o.mtime;
    ctx.source_options.blob_dir = work.path() + "/blobs";
    const std::string profile_sha256 = to_hex(sha256_file(o.profile));
    if (!o.lock_in.empty()) {
        ctx.lock_in = source::LockFile::read(o.lock_in);
        auto recorded = ctx.lock_in->settings().find("profile_sha256");
        if (recorded != ctx.lock_in->settings().end() && recorded->second != profile_sha256)
            throw_input(o.lock_in + ": made with another profile (SHA-256 " + recorded->second +
                        "); " + o.profile + " has " + profile_sha256 +
                        ", so the lock cannot rebuild the same image with it");
    }

    // Resolve and fetch the sources, then assemble the tree.
    tree::Tree tree;
    tree.set_default_mtime(o.mtime);
    for (size_t i = 0; i < target.sources.size(); ++i) {
        const profile::SourceSpec& s = target.sources[i];
        try {
            add_source(ctx, s, i + 1, tree);
        } catch (const MultiError&) {
            throw;
        } catch (const Error& e) {
            // Where in the profile the failing source is, unless the error says it.
            const std::string where = s.origin.str();
            if (starts_with(e.what(), where))
                throw;
            throw Error(e.kind(), where + ": " + s.type + " source: " + e.what());
        }
    }

    BuildResult r;
    r.left_out_recommends = ctx.left_out_recommends;
    r.name = target.image.empty() ? prof.name : profile::expand(target.image, ctx.vars, target.origin);
    r.target = target_name;
    r.architecture = o.architecture;
    if (!prof.version_from.empty() && ctx.versions.count(prof.version_from))
        r.version = upstream_of(ctx.versions[prof.version_from]);
    else if (ctx.vars.count("version"))
        r.version = ctx.vars["version"];
    else
        throw_usage("cannot tell the version of " + prof.name + "; give --set version=VERSION");
    // A rebuild of the same upstream version (a carried package's security
    // fix): a new version to hosts, "-rN" sorting after the plain one.
    if (o.revision > 0)
        r.version += "-r" + std::to_string(o.revision);
    ctx.vars["version"] = r.version;
    ctx.vars["image"] = r.name;
    // The version where a systemd unit name holds it (an instance name that
    // changes with the image, so a refreshed extension's units start anew):
    // characters unit names do not allow ("+" and "~" of Debian versions) become "_".
    std::string unit_version = r.version;
    for (char& c : unit_version)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != ':' && c != '-' && c != '_' &&
            c != '.')
            c = '_';
    ctx.vars["unit_version"] = unit_version;

    reporter.stage("assembling");
    profile::apply_layout(prof, tree, ctx.vars, o.mtime);

    // The release metadata systemd matches against the host.
    release::Fields rel = release_fields(ctx);
    // Named at the target, whose "release" (over the profile's) made the fields.
    for (auto& p : release::check(rel, target.origin.str()))
        ctx.problems.push_back(std::move(p));
    r.release_text = release::render(rel);
    {
        tree::Node n;
        n.type = tree::NodeType::File;
        n.mtime = o.mtime;
        n.origin = o.profile;
        auto bytes = std::make_shared<std::string>(r.release_text);
        n.content = {tree::Content::Kind::Inline, "", bytes, nullptr, 0, bytes->size()};
        // Published images are named NAME-VERSION-ARCH.raw and reached through
        // /etc/extensions/NAME.raw; systemd (252 at least) checks the release
        // file against the name of the file the link resolves to, unless the
        // file carries this attribute set to false (os-release(5)).
        n.xattrs.push_back({"user.extension-release.strict", "0"});
        if (!settings.xattrs())
            reporter.warn("--no-xattrs: the image loses user.extension-release.strict=0 and must keep the name " +
                          r.name + ".raw to be merged");
        tree.add(release::release_path(r.name), std::move(n), /*replace=*/true);
    }

    // Check everything before packing: components, the tree, the binaries.
    reporter.stage("checking");
    for (auto& p : profile::check_components(prof, tree, ctx.vars))
        ctx.problems.push_back(std::move(p));
    if (std::string dropped = validate::drop_foreign_xattrs(tree); !dropped.empty())
        reporter.warn(dropped);
    for (auto& p : validate::check_tree(tree, {r.name}, o.profile))
        ctx.problems.push_back(std::move(p));
    if (!ctx.problems.empty())
        throw MultiError(ErrorKind::Input, std::move(ctx.problems));
    tree.finalize();
    r.entries = tree.count();
    check_binaries(ctx, tree, r, rel.os_id == "_any");
    report_host_overlays(ctx, tree, r);
    for (const auto& c : prof.components) {
        std::string pkg = c.package.empty() ? c.name : c.package;
        r.components[c.name] = ctx.versions.count(pkg) ? ctx.versions[pkg] : "";
    }

    // Pack, then write the lock file: it names exactly what went in. A disk
    // image is made from an image packed in the work directory.
    r.settings = settings;
    r.ddi = ddi;
    r.image = o.output_dir + "/" + r.name + ".raw";
    const std::string packed = ddi ? work.path() + "/" + r.name + ".raw" : r.image;
    {
        AtomicFile out(packed);
        if (settings.format == ImageFormat::Erofs)
            erofs::write_image(tree, out.fd(), settings.erofs, reporter);
        else
            squashfs::write_image(tree, out.fd(), settings.squashfs, reporter);
        out.commit();
    }
    r.lock = o.output_dir + "/" + r.name + ".lock.json";
    {
        // Besides the inputs, everything the image's bytes depend on, so that
        // `build --lock` alone rebuilds them (the command line applies these).
        source::LockFile& out = ctx.lock_in ? *ctx.lock_in : ctx.lock;
        out.set("profile", prof.name);
        out.set("profile_sha256", profile_sha256);
        out.set("target", target_name);
        out.set("architecture", o.architecture);
        out.set("version", r.version);
        if (o.revision > 0)
            out.set("revision", std::to_string(o.revision));
        out.set("mtime", std::to_string(o.mtime));
        // The other format's settings, from a lock this build overrode, go.
        out.erase("block_size");
        out.erase("erofs_pcluster");
        out.erase("fragments");
        for (const auto& [setting, value] : settings.lock_settings())
            out.set(setting, value);
        for (const auto& [var, value] : o.vars)
            out.set("set." + var, value);
        out.write(r.lock);
    }
    for (const auto& e : (ctx.lock_in ? *ctx.lock_in : ctx.lock).entries())
        r.inputs.push_back({e.name, e.version, e.sha256});

    // Sign last, once every byte of the image is final.
    if (key) {
        reporter.stage("signing");
        verity::SignRequest req;
        req.image_path = packed;
        req.ddi_path = ddi ? r.image : "";
        req.arch = o.architecture;
        req.certificate_fingerprint = cert->fingerprint_sha256();
        req.sign = verity::pkcs7_signer(*key, *cert);
        auto signed_result = verity::sign_image(req, reporter);
        r.root_hash = signed_result.root_hash_hex;
        r.certificate_fingerprint = req.certificate_fingerprint;
        r.signed_outputs = signed_result.outputs;
    }
    // The Flatcar update payload carries the final image, so it comes after signing.
    if (o.payload || target_name == "flatcar" || !o.payload_keys.empty()) {
        reporter.stage("writing the update payload");
        payload::CreateOptions po;
        po.image = r.image;
        po.output = o.output_dir + "/" + r.name + ".gz";
        po.keys = payload_keys;
        po.cache = o.payload_cache;
        if (payload_keys.empty()) {
            po.reserved_signature_sizes = payload_room;
            po.hash_file = po.output + ".hash";
            r.payload_hash_file = po.hash_file;
        }
        payload::create_payload(po, reporter);
        r.payload = po.output;
    }
    reporter.stage("hashing");
    r.sha256 = to_hex(sha256_file(r.image));
    struct stat st;
    if (::stat(r.image.c_str(), &st) == 0)
        r.size = static_cast<uint64_t>(st.st_size);
    return r;
}

} // namespace sysext::pipeline

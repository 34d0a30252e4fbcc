// Binary packages as tree sources (see package_source.hpp).
#include "sysext/source/package_source.hpp"

#include "sysext/source/archive.hpp"
#include "sysext/source/archive_reason.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace sysext::source {

namespace {

struct ArchiveFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

constexpr size_t k_chunk = 1 << 20;


// An inner archive, still compressed, in an unlinked temporary file. The
// archive source opens it by its /proc/self/fd name, now and again while the
// image is written, so the descriptor stays open as long as a node needs it.
class InnerArchive {
public:
    InnerArchive(std::string label) : m_label(std::move(label)) {
        const char* tmp = std::getenv("TMPDIR");
        std::string dir = tmp && *tmp ? tmp : "/tmp";
        int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
            throw_errno(dir + ": cannot create a temporary file for " + m_label);
        m_fd = std::make_shared<Fd>(fd);
        m_proc_path = "/proc/self/fd/" + std::to_string(fd);
    }
    void write(const void* data, size_t size) { write_all(m_fd->get(), data, size, m_label); }
    const std::string& proc_path() const { return m_proc_path; }
    const std::string& label() const { return m_label; }
    std::shared_ptr<Fd> keep_alive() const { return m_fd; }
    std::string relabel(const std::string& text) const {
        return replace_all(text, m_proc_path, m_label);
    }

private:
    std::string m_label;
    std::shared_ptr<Fd> m_fd;
    std::string m_proc_path;
};

// Streams an inner archive's entries, keeping its temporary file open and
// naming the package, not the temporary file, when reading fails.
class InnerStream : public tree::StreamedContent {
public:
    InnerStream(std::shared_ptr<tree::StreamedContent> inner, std::shared_ptr<Fd> keep,
                std::string proc_path, std::string label)
        : m_inner(std::move(inner)), m_keep(std::move(keep)), m_proc_path(std::move(proc_path)),
          m_label(std::move(label)) {}
    void read(uint64_t index, const tree::ByteSink& sink) override {
        try {
            m_inner->read(index, sink);
        } catch (const Error& e) {
            throw Error(e.kind(), replace_all(e.what(), m_proc_path, m_label));
        }
    }

private:
    std::shared_ptr<tree::StreamedContent> m_inner;
    std::shared_ptr<Fd> m_keep;
    std::string m_proc_path;
    std::string m_label;
};

class RelabelReporter : public Reporter {
public:
    RelabelReporter(Reporter& out, const InnerArchive& inner) : m_out(out), m_inner(inner) {}
    void stage(std::string_view s) override { m_out.stage(m_inner.relabel(std::string(s))); }
    void progress(uint64_t done, uint64_t total) override { m_out.progress(done, total); }
    void warn(std::string_view s) override { m_out.warn(m_inner.relabel(std::string(s))); }
    void info(std::string_view s) override { m_out.info(m_inner.relabel(std::string(s))); }

private:
    Reporter& m_out;
    const InnerArchive& m_inner;
};

// Adds an inner archive's entries, then renames the temporary file in every
// message and origin, and makes the nodes hold the temporary file open.
void add_inner(tree::Tree& tree, const InnerArchive& inner, const SourceOptions& options,
               std::vector<std::string>& problems, Reporter& reporter) {
    const size_t first_problem = problems.size();
    RelabelReporter relabeled(reporter, inner);
    try {
        add_archive(tree, inner.proc_path(), options, problems, relabeled);
    } catch (const Error& e) {
        throw Error(e.kind(), inner.relabel(e.what()));
    }
    for (size_t i = first_problem; i < problems.size(); ++i)
        problems[i] = inner.relabel(problems[i]);
    const std::string mark = inner.proc_path() + ": ";
    std::map<tree::StreamedContent*, std::shared_ptr<tree::StreamedContent>> wrapped;
    tree.walk([&](tree::Node& n) {
        if (!starts_with(n.origin, mark))
            return;
        n.origin = inner.relabel(n.origin);
        if (n.content.kind != tree::Content::Kind::Stream || !n.content.stream)
            return;
        auto& w = wrapped[n.content.stream.get()];
        if (!w)
            w = std::make_shared<InnerStream>(n.content.stream, inner.keep_alive(),
                                              inner.proc_path(), inner.label());
        n.content.stream = w;
    });
}

ArchivePtr open_outer(const std::string& path, bool ar) {
    ArchivePtr a(archive_read_new());
    if (!a)
        throw Error(ErrorKind::Internal, "out of memory creating an archive reader");
    archive_read_support_filter_none(a.get());
    if (ar)
        archive_read_support_format_ar(a.get());
    else
        archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), path.c_str(), k_chunk) != ARCHIVE_OK)
        throw_input(path + ": " + archive_reason(a.get()));
    return a;
}

void copy_member(archive* a, const std::string& what, InnerArchive& out) {
    std::vector<char> buf(k_chunk);
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
        if (n < 0)
            throw_input(what + ": " + archive_reason(a));
        if (n == 0)
            return;
        out.write(buf.data(), static_cast<size_t>(n));
    }
}

std::string read_member(archive* a, const std::string& what, size_t max) {
    std::string out(max, '\0');
    la_ssize_t n = archive_read_data(a, out.data(), out.size());
    if (n < 0)
        throw_input(what + ": " + archive_reason(a));
    out.resize(static_cast<size_t>(n));
    return out;
}

void add_deb(tree::Tree& tree, const std::string& path, const SourceOptions& options,
             std::vector<std::string>& problems, Reporter& reporter) {
    ArchivePtr a = open_outer(path, true);
    bool first = true;
    for (;;) {
        archive_entry* e = nullptr;
        int r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            throw_input(path + ": " + archive_reason(a.get()));
        const std::string member = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        if (first) {
            // deb(5): the first member says which format version follows.
            if (member != "debian-binary" || !starts_with(read_member(a.get(), path, 16), "2."))
                throw_input(path +
                            ": not a Debian binary package (no debian-binary 2.x member first)");
            first = false;
            continue;
        }
        if (member == "data.tar" || starts_with(member, "data.tar.")) {
            InnerArchive inner(path + ": " + member);
            copy_member(a.get(), path + ": " + member, inner);
            add_inner(tree, inner, options, problems, reporter);
            return;
        }
    }
    throw_input(path + ": no data.tar member (not a Debian binary package?)");
}

// Moves the children of `from` below `to`; directories present in both merge.
void graft(tree::Node& from, tree::Node& to) {
    for (auto& [name, child] : from.children) {
        auto& slot = to.children[name];
        if (!slot) {
            child->parent = &to;
            slot = std::move(child);
            continue;
        }
        // Both are directories (checked before): take the package's metadata, as Tree::add does.
        slot->mode = child->mode;
        slot->uid = child->uid;
        slot->gid = child->gid;
        slot->mtime = child->mtime;
        slot->xattrs = child->xattrs;
        graft(*child, *slot);
    }
    from.children.clear();
}

// Entries of `from` that would land on something other than a directory in `to`.
void find_clashes(const tree::Node& from, const tree::Node& to, const std::string& where,
                  std::vector<std::string>& problems) {
    for (const auto& [name, child] : from.children) {
        auto it = to.children.find(name);
        if (it == to.children.end())
            continue;
        const std::string path = where.empty() ? name : where + "/" + name;
        if (child->is_dir() && it->second->is_dir())
            find_clashes(*child, *it->second, path, problems);
        else
            problems.push_back(
                child->origin + ": " + quote(path) + " is already in the tree" +
                (it->second->origin.empty() ? "" : " (from " + it->second->origin + ")"));
    }
}

void add_gpkg(tree::Tree& tree, const std::string& path, const SourceOptions& options,
              std::vector<std::string>& problems, Reporter& reporter) {
    ArchivePtr a = open_outer(path, false);
    for (;;) {
        archive_entry* e = nullptr;
        int r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            throw_input(path + ": " + archive_reason(a.get()));
        const std::string member = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        auto slash = member.find('/');
        if (slash == std::string::npos || member.find('/', slash + 1) != std::string::npos)
            continue;
        const std::string base = member.substr(slash + 1);
        if (base != "image.tar" && !starts_with(base, "image.tar."))
            continue;
        if (ends_with(base, ".sig"))
            continue;
        InnerArchive inner(path + ": " + member);
        copy_member(a.get(), inner.label(), inner);
        // The image's files are under image/: read it into a tree of its own,
        // then move what is under image/ to the place asked for.
        tree::Tree image;
        image.set_default_mtime(options.mtime);
        SourceOptions inner_options = options;
        inner_options.prefix.clear();
        const size_t first_problem = problems.size();
        add_inner(image, inner, inner_options, problems, reporter);
        for (const auto& [name, child] : image.root().children)
            if (name != "image")
                problems.push_back(child->origin + ": outside image/");
        tree::Node* files = image.find("image");
        if (!files)
            throw_input(inner.label() + ": no image/ directory");
        if (!files->is_dir())
            throw_input(inner.label() + ": image is not a directory");
        tree::Node& target = options.prefix.empty() ? tree.root() : tree.ensure_dir(options.prefix);
        find_clashes(*files, target, options.prefix, problems);
        // Nothing is moved when something clashes: no node may point into a half-moved tree.
        if (problems.size() == first_problem)
            graft(*files, target);
        return;
    }
    throw_input(path + ": no NAME/image.tar member (not a Gentoo binary package?)");
}

void add_xpak(tree::Tree& tree, const std::string& path, const SourceOptions& options,
              std::vector<std::string>& problems, Reporter& reporter) {
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw_errno(path);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    unsigned char tail[8];
    if (size < 16 || pread_full(fd.get(), tail, 8, static_cast<off_t>(size - 8), path) != 8)
        throw_input(path + ": too short for an XPAK package");
    const uint64_t xpak_size =
        (uint64_t{tail[0]} << 24) | (uint64_t{tail[1]} << 16) | (uint64_t{tail[2]} << 8) | tail[3];
    if (std::memcmp(tail + 4, "STOP", 4) != 0 || xpak_size + 8 > size || xpak_size < 16)
        throw_input(path + ": bad XPAK trailer");
    const uint64_t tar_size = size - 8 - xpak_size;
    char magic[8];
    if (pread_full(fd.get(), magic, 8, static_cast<off_t>(tar_size), path) != 8 ||
        std::memcmp(magic, "XPAKPACK", 8) != 0)
        throw_input(path + ": bad XPAK block (no XPAKPACK where the trailer points)");
    InnerArchive inner(path);
    std::vector<char> buf(k_chunk);
    for (uint64_t done = 0; done < tar_size;) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), tar_size - done));
        size_t got = pread_full(fd.get(), buf.data(), want, static_cast<off_t>(done), path);
        if (got != want)
            throw_input(path + ": changed while it was being read");
        inner.write(buf.data(), got);
        done += got;
    }
    add_inner(tree, inner, options, problems, reporter);
}

} // namespace

const char* format_name(PackageFormat f) {
    switch (f) {
    case PackageFormat::Deb:
        return "Debian package";
    case PackageFormat::Rpm:
        return "RPM package";
    case PackageFormat::Gpkg:
        return "Gentoo GPKG package";
    case PackageFormat::Xpak:
        return "Gentoo XPAK package";
    case PackageFormat::Archive:
        return "archive";
    }
    return "archive";
}

PackageFormat detect_package_format(const std::string& path) {
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw_errno(path);
    if (!S_ISREG(st.st_mode))
        return PackageFormat::Archive;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    std::string head(512, '\0');
    head.resize(pread_full(fd.get(), head.data(), head.size(), 0, path));
    if (starts_with(head, "!<arch>\n") && head.compare(8, 13, "debian-binary") == 0)
        return PackageFormat::Deb;
    if (starts_with(head, "\xed\xab\xee\xdb"))
        return PackageFormat::Rpm;
    if (head.size() == 512 && head.compare(257, 5, "ustar") == 0) {
        std::string first(head.data(), strnlen(head.data(), 100));
        if (ends_with(first, "/gpkg-1"))
            return PackageFormat::Gpkg;
    }
    if (size >= 16) {
        char tail[16];
        if (pread_full(fd.get(), tail, 16, static_cast<off_t>(size - 16), path) == 16 &&
            std::memcmp(tail, "XPAKSTOP", 8) == 0 && std::memcmp(tail + 12, "STOP", 4) == 0)
            return PackageFormat::Xpak;
    }
    return PackageFormat::Archive;
}

void add_package(tree::Tree& tree, const std::string& path, const SourceOptions& options,
                 std::vector<std::string>& problems, Reporter& reporter) {
    switch (detect_package_format(path)) {
    case PackageFormat::Deb:
        return add_deb(tree, path, options, problems, reporter);
    case PackageFormat::Gpkg:
        return add_gpkg(tree, path, options, problems, reporter);
    case PackageFormat::Xpak:
        return add_xpak(tree, path, options, problems, reporter);
    case PackageFormat::Rpm: // libarchive's rpm filter leads to the cpio payload
    case PackageFormat::Archive:
        return add_archive(tree, path, options, problems, reporter);
    }
}

} // namespace sysext::source

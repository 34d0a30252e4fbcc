#include "sysext/source/archive.hpp"

#include "sysext/source/archive_reason.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <zlib.h>

namespace sysext::source {

namespace {

struct ArchiveFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

constexpr size_t k_block = 1 << 20;

// Formats chosen on purpose: no mtree (it names files on the build host) and
// no raw format (any file would "succeed" as one entry).
// With fd >= 0 the archive is read from it (the caller keeps it open).
ArchivePtr open_archive(const std::string& path, int fd = -1) {
    ArchivePtr a(archive_read_new());
    if (!a)
        throw Error(ErrorKind::Internal, "out of memory creating an archive reader");
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    archive_read_support_format_cpio(a.get());
    archive_read_support_format_zip(a.get());
    archive_read_support_format_7zip(a.get());
    archive_read_support_format_ar(a.get());
    // Our own open first: "path: Permission denied" says more than libarchive's text.
    if (fd < 0)
        open_or_throw(path, O_RDONLY);
    int r = fd < 0 ? archive_read_open_filename(a.get(), path.c_str(), k_block)
                   : archive_read_open_fd(a.get(), fd, k_block);
    if (r != ARCHIVE_OK)
        throw_input(path + ": " + archive_reason(a.get()));
    return a;
}

[[noreturn]] void archive_failure(archive* a, const std::string& path, const std::string& entry) {
    std::string msg = path + ": ";
    if (!entry.empty())
        msg += entry + ": ";
    throw_input(msg + archive_reason(a));
}

// libarchive does not check gzip's CRC (its gzip reader leaves it to do), so
// damaged data inside a .gz would pack silently: zlib reads it once to check.
void check_gzip(archive* a, const std::string& path) {
    if (archive_filter_count(a) < 2 || archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP)
        return;
    gzFile gz = ::gzopen(path.c_str(), "rb");
    if (gz == nullptr)
        throw_errno(path);
    std::vector<char> buf(k_block);
    int n;
    while ((n = ::gzread(gz, buf.data(), static_cast<unsigned>(buf.size()))) > 0) {
    }
    int err = Z_OK;
    std::string why = n < 0 ? ::gzerror(gz, &err) : "";
    ::gzclose(gz);
    if (n < 0)
        throw_input(path + ": damaged gzip data (" + why + ")");
}

// libarchive (3.7 too) reads a cpio entry's name in one piece of the size its
// newc header claims, up to 4 GiB, into memory: a 117 kB .cpio.zst claiming a
// 3 GB name took 3 GB (found by fuzzing). So the decompressed stream of a newc
// cpio is scanned first, and a header claiming a name longer than a path can
// be is refused. Every place that looks like a header counts: after damage,
// libarchive searches forward for the next one.
void check_cpio_name_sizes(const std::string& path, int fd) {
    constexpr size_t header = 110; // "070701" or "070702", then 13 fields of 8 hex digits
    constexpr size_t name_size_at = 94;
    Fd again = open_or_throw("/proc/self/fd/" + std::to_string(fd), O_RDONLY | O_CLOEXEC);
    ArchivePtr a(archive_read_new());
    if (!a)
        throw Error(ErrorKind::Internal, "out of memory creating an archive reader");
    archive_read_support_filter_all(a.get());
    archive_read_support_format_raw(a.get());
    archive_entry* e = nullptr;
    if (archive_read_open_fd(a.get(), again.get(), k_block) != ARCHIVE_OK ||
        archive_read_next_header(a.get(), &e) != ARCHIVE_OK)
        return; // the reading proper says what is wrong
    auto is_hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    std::string window; // the unscanned bytes, and the start of a header cut by a block's end
    uint64_t window_at = 0;
    std::vector<char> buf(k_block);
    for (bool first = true;;) {
        la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
        if (n <= 0)
            return;
        window.append(buf.data(), static_cast<size_t>(n));
        if (first && window.size() < 6)
            continue;
        if (first && (window.compare(0, 5, "07070") != 0 || (window[5] != '1' && window[5] != '2')))
            return; // not a newc cpio
        first = false;
        for (size_t at = window.find("07070");
             at != std::string::npos && at + header <= window.size();
             at = window.find("07070", at + 1)) {
            const char* h = window.data() + at;
            if ((h[5] != '1' && h[5] != '2') || !std::all_of(h + 6, h + header, is_hex))
                continue;
            const uint64_t name_size = std::stoull(std::string(h + name_size_at, 8), nullptr, 16);
            if (name_size > tree::k_max_path_bytes + 1)
                throw_input(path + ": the cpio header at byte " + std::to_string(window_at + at) +
                            " claims a name of " + std::to_string(name_size) +
                            " bytes; a path has at most " + std::to_string(tree::k_max_path_bytes));
        }
        const size_t keep = std::min(window.size(), header - 1);
        window_at += window.size() - keep;
        window.erase(0, window.size() - keep);
    }
}

// The entry's name as stored: in the locale's encoding, or UTF-8 when it
// cannot be converted (a pax name in a C locale).
std::string entry_name(archive_entry* e) {
    const char* n = archive_entry_pathname(e);
    if (n == nullptr)
        n = archive_entry_pathname_utf8(e);
    return n ? n : "";
}

bool charset_warning(const char* why) {
    return why != nullptr &&
           std::string_view(why).find("can't be converted") != std::string_view::npos;
}

constexpr uint64_t k_not_direct = ~0ull;

// Reads the current entry's data as exactly `size` bytes, in pieces. Holes
// between a sparse entry's blocks, and the one after its last block up to its
// size (a file ending in a hole), are read as zeros, as libarchive's own
// extraction makes them. Never more than `size`: a sparse map pointing far
// beyond the entry's real size would otherwise yield zeros up to there (a 3 KB
// tar would give 100 GB). A plain entry that ends early is refused.
void read_entry_data(archive* a, const std::string& path, const std::string& entry, uint64_t size,
                     bool sparse, const tree::ByteSink& sink) {
    static const std::vector<char> zeros(1 << 16, 0);
    uint64_t pos = 0;
    auto zero_fill = [&](uint64_t end) {
        for (; pos < end;) {
            size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), end - pos));
            sink(zeros.data(), n);
            pos += n;
        }
    };
    for (;;) {
        const void* block = nullptr;
        size_t len = 0;
        la_int64_t offset = 0;
        int r = archive_read_data_block(a, &block, &len, &offset);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            archive_failure(a, path, entry);
        if (len == 0)
            continue;
        if (offset < 0 || static_cast<uint64_t>(offset) < pos)
            throw_input(path + ": " + entry + ": data blocks out of order");
        if (static_cast<uint64_t>(offset) > size || len > size - static_cast<uint64_t>(offset))
            throw_input(path + ": " + entry + ": entry holds more than the " +
                        std::to_string(size) + " bytes its header says");
        zero_fill(static_cast<uint64_t>(offset));
        sink(block, len);
        pos += len;
    }
    if (sparse)
        zero_fill(size);
    if (pos < size)
        throw_input(path + ": " + entry + ": entry holds " + std::to_string(pos) +
                    " bytes, its header says " + std::to_string(size));
}

struct EntryInfo {
    std::string path;
    uint64_t size = 0;
    bool wanted = false; // its data is a file's content
    bool sparse = false; // holes, the trailing one included, read as zeros
    // Where its data lies in the archive file when it can be read from there
    // directly (an uncompressed tar keeps each file's bytes in one piece).
    uint64_t offset = k_not_direct;
};

// The archive file as seen by the first pass: direct reads check it is still
// that file.
struct ArchiveFile {
    Fd fd;
    struct stat st {};
};

// Pass two: delivers entries' data in whatever order the writer asks.
class ArchiveStream : public tree::StreamedContent {
public:
    ArchiveStream(std::string path, std::vector<EntryInfo> entries, ArchiveFile file)
        : m_path(std::move(path)), m_entries(std::move(entries)), m_file(std::move(file)) {}

    void read(uint64_t index, const tree::ByteSink& sink) override {
        if (m_entries.at(index).offset != k_not_direct) {
            read_direct(m_entries[index], sink);
            return;
        }
        if (auto it = m_parked.find(index); it != m_parked.end()) {
            deliver_parked(it->second, sink);
            m_parked.erase(it);
            return;
        }
        if (!m_archive) {
            // The file the first pass read, not whatever now has its name.
            check_unchanged();
            m_reopened = open_or_throw("/proc/self/fd/" + std::to_string(m_file.fd.get()),
                                       O_RDONLY | O_CLOEXEC);
            m_archive = open_archive(m_path, m_reopened.get());
        }
        for (;;) {
            archive_entry* e = nullptr;
            int r = archive_read_next_header(m_archive.get(), &e);
            if (r == ARCHIVE_EOF)
                throw_input(m_path + ": changed while it was being read (entry " +
                            m_entries.at(index).path + " missing)");
            if (r < ARCHIVE_WARN)
                archive_failure(m_archive.get(), m_path, "");
            uint64_t seq = m_next++;
            if (seq >= m_entries.size() || m_entries[seq].path != entry_name(e))
                throw_input(m_path + ": changed while it was being read");
            if (seq == index) {
                copy_data(m_entries[seq], sink);
                return;
            }
            if (m_entries[seq].wanted && m_entries[seq].offset == k_not_direct)
                park(seq);
        }
    }

private:
    struct Parked {
        uint64_t offset;
        uint64_t size;
    };

    std::vector<char>& buffer() {
        if (m_buffer.empty())
            m_buffer.resize(k_block);
        return m_buffer;
    }

    void check_unchanged() {
        if (m_checked)
            return;
        struct stat now;
        if (::fstat(m_file.fd.get(), &now) != 0)
            throw_errno(m_path);
        if (now.st_size != m_file.st.st_size || now.st_mtim.tv_sec != m_file.st.st_mtim.tv_sec ||
            now.st_mtim.tv_nsec != m_file.st.st_mtim.tv_nsec)
            throw_input(m_path + ": changed while it was being read");
        m_checked = true;
    }

    // No libarchive, no copy to a temporary file: the bytes are read where the
    // first pass found them, in whatever order the writer asks.
    void read_direct(const EntryInfo& entry, const tree::ByteSink& sink) {
        check_unchanged();
        std::vector<char>& buf = buffer();
        for (uint64_t done = 0; done < entry.size;) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), entry.size - done));
            size_t got = pread_full(m_file.fd.get(), buf.data(), want,
                                    static_cast<off_t>(entry.offset + done), m_path);
            if (got != want)
                throw_input(m_path + ": " + entry.path + ": truncated archive");
            sink(buf.data(), got);
            done += got;
        }
    }

    void copy_data(const EntryInfo& entry, const tree::ByteSink& sink) {
        read_entry_data(m_archive.get(), m_path, entry.path, entry.size, entry.sparse, sink);
    }

    // An entry that comes before its turn waits in an unlinked temporary file:
    // nothing is left behind, whatever happens to the process.
    void park(uint64_t seq) {
        if (!m_spill.valid()) {
            const char* tmp = std::getenv("TMPDIR");
            std::string dir = tmp && *tmp ? tmp : "/tmp";
            int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
            if (fd < 0)
                throw_errno(dir + ": cannot create a temporary file for archive entries");
            m_spill = Fd(fd);
        }
        Parked p{m_spill_end, 0};
        copy_data(m_entries[seq], [&](const void* data, size_t size) {
            pwrite_all(m_spill.get(), data, size, p.offset + p.size,
                       "temporary file for " + m_path);
            p.size += size;
        });
        m_spill_end += p.size;
        m_parked[seq] = p;
    }

    void deliver_parked(const Parked& p, const tree::ByteSink& sink) {
        std::vector<char>& buf = buffer();
        for (uint64_t done = 0; done < p.size;) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), p.size - done));
            size_t got = pread_full(m_spill.get(), buf.data(), want,
                                    static_cast<off_t>(p.offset + done), "temporary file");
            if (got != want)
                throw Error(ErrorKind::Io, "temporary file for " + m_path + " is short");
            sink(buf.data(), got);
            done += got;
        }
        // Give the space back at once: a badly ordered archive can park a lot.
        ::fallocate(m_spill.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(p.offset), static_cast<off_t>(p.size));
    }

    std::string m_path;
    std::vector<EntryInfo> m_entries;
    ArchiveFile m_file;
    bool m_checked = false;
    std::vector<char> m_buffer; // one for every entry: no 1 MiB zero-fill per file
    Fd m_reopened;              // the first pass's file, with an offset of its own
    ArchivePtr m_archive;
    uint64_t m_next = 0;
    Fd m_spill;
    uint64_t m_spill_end = 0;
    std::unordered_map<uint64_t, Parked> m_parked;
};

// Reads the current entry's data into blob_dir/<sha256>, written atomically
// (holes and sizes as read_entry_data says).
std::string store_blob(archive* a, archive_entry* e, const std::string& blob_dir,
                       const std::string& path, const std::string& entry, uint64_t size) {
    AtomicFile tmp(blob_dir + "/blob", 0444, AtomicFile::Sweep::None);
    Sha256 hash;
    const bool sparse = archive_entry_sparse_count(e) != 0;
    read_entry_data(a, path, entry, size, sparse, [&](const void* data, size_t n) {
        hash.update(data, n);
        tmp.write(data, n);
    });
    std::string blob = blob_dir + "/" + to_hex(hash.finish());
    struct stat st;
    if (::stat(blob.c_str(), &st) != 0) // identical content is kept once
        tmp.commit_as(blob);
    return blob;
}

tree::NodeType node_type(mode_t type) {
    switch (type) {
    case AE_IFDIR:
        return tree::NodeType::Directory;
    case AE_IFREG:
        return tree::NodeType::File;
    case AE_IFLNK:
        return tree::NodeType::Symlink;
    case AE_IFIFO:
        return tree::NodeType::Fifo;
    case AE_IFSOCK:
        return tree::NodeType::Socket;
    case AE_IFCHR:
        return tree::NodeType::CharDevice;
    case AE_IFBLK:
        return tree::NodeType::BlockDevice;
    default:
        return tree::NodeType::File;
    }
}

std::string join(const std::string& prefix, const std::string& path) {
    if (prefix.empty())
        return path;
    return prefix + "/" + path;
}

// Adds an entry; one that cannot go where it says (below a file, say) is a
// problem naming the archive and the entry, and the reading goes on.
tree::Node* add_entry(tree::Tree& tree, const std::string& where, tree::Node n,
                      const std::string& origin, std::vector<std::string>& problems) {
    try {
        return &tree.add(where, std::move(n));
    } catch (const Error& e) {
        const std::string why = e.what();
        problems.push_back(starts_with(why, origin) ? why : origin + ": " + why);
        return nullptr;
    }
}

// Whether entries' data can be read straight from the archive file: a tar with
// no compression filter stores each file's bytes contiguously after its header.
bool direct_reads_possible(archive* a) {
    return archive_filter_count(a) == 1 &&
           (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
}

// The offset of the current entry's data in the archive file, or k_not_direct.
// The first bytes are compared with what libarchive reads, so a format detail
// we did not foresee costs speed, never correctness.
uint64_t locate_data(archive* a, archive_entry* e, int fd, uint64_t size, uint64_t file_size) {
    if (archive_entry_sparse_count(e) != 0)
        return k_not_direct;
    const la_int64_t pos = archive_filter_bytes(a, 0);
    if (pos < 0 || static_cast<uint64_t>(pos) > file_size ||
        size > file_size - static_cast<uint64_t>(pos))
        return k_not_direct;
    char expected[512], found[512];
    const size_t probe = static_cast<size_t>(std::min<uint64_t>(sizeof expected, size));
    size_t got = 0;
    while (got < probe) {
        la_ssize_t n = archive_read_data(a, expected + got, probe - got);
        if (n <= 0)
            return k_not_direct; // libarchive reports the problem again in the second pass
        got += static_cast<size_t>(n);
    }
    if (pread_full(fd, found, probe, static_cast<off_t>(pos), "archive") != probe ||
        std::memcmp(expected, found, probe) != 0)
        return k_not_direct;
    return static_cast<uint64_t>(pos);
}

} // namespace

void add_archive(tree::Tree& tree, const std::string& path, const SourceOptions& options,
                 std::vector<std::string>& problems, Reporter& reporter) {
    reporter.stage("reading " + path);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
        throw_errno(path);
    if (!S_ISREG(st.st_mode))
        throw_input(path + ": not a directory or an archive file");
    const uint64_t limit =
        std::min(options.max_content_bytes,
                 std::max<uint64_t>(1ull << 30,
                                    options.max_expand_ratio * static_cast<uint64_t>(st.st_size)));

    ArchiveFile file{open_or_throw(path, O_RDONLY | O_CLOEXEC), {}};
    if (::fstat(file.fd.get(), &file.st) != 0)
        throw_errno(path);
    check_cpio_name_sizes(path, file.fd.get());
    ArchivePtr a = open_archive(path, file.fd.get());
    std::optional<bool> direct; // known once the first header was read
    std::vector<EntryInfo> entries;
    // The second pass delivers this entry's data: straight from the file when
    // the archive allows it, else through libarchive.
    auto want_data = [&](uint64_t seq, archive_entry* e, uint64_t size) {
        entries[seq].size = size;
        entries[seq].wanted = true;
        entries[seq].sparse = archive_entry_sparse_count(e) != 0;
        if (direct.value_or(false))
            entries[seq].offset = locate_data(a.get(), e, file.fd.get(), size,
                                              static_cast<uint64_t>(file.st.st_size));
    };
    bool gzip_checked = false;
    // Nodes waiting for the stream object, which needs the full entry list.
    std::vector<std::pair<tree::Node*, uint64_t>> streamed;
    uint64_t content_total = 0;
    for (;;) {
        archive_entry* e = nullptr;
        int r = archive_read_next_header(a.get(), &e);
        if (!gzip_checked) {
            gzip_checked = true; // the filter is known once the first header was read
            check_gzip(a.get(), path);
        }
        if (!direct && r >= ARCHIVE_WARN && r != ARCHIVE_EOF)
            direct = direct_reads_possible(a.get());
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            archive_failure(a.get(), path, entries.empty() ? "" : "after " + entries.back().path);
        if (entries.size() >= options.max_entries)
            throw_input(path + ": more than " + std::to_string(options.max_entries) + " entries");
        std::string name = entry_name(e);
        entries.push_back({name, 0, false});
        const uint64_t seq = entries.size() - 1;
        const std::string origin = path + ": " + name;
        if (r == ARCHIVE_WARN && !name.empty() && charset_warning(archive_error_string(a.get())))
            r = ARCHIVE_OK; // only the name's conversion to the locale failed: the UTF-8 name is
                            // used
        if (r == ARCHIVE_WARN) {
            // libarchive read on, but says something is wrong (a damaged header,
            // skipped bytes): for hostile input that is a problem, not a remark.
            const char* why = archive_error_string(a.get());
            problems.push_back(path + ": " + (name.empty() ? "" : name + ": ") +
                               (why ? why : "damaged entry"));
            continue;
        }
        if (name.empty())
            // The reader has lost its place: whatever follows is noise.
            throw_input(path + ": damaged archive: an entry without a name" +
                        (seq == 0 ? std::string() : " after " + entries[seq - 1].path));
        if (name[0] == '/') {
            problems.push_back(origin + ": absolute path (entries must be relative to the tree)");
            continue;
        }
        std::string where;
        try {
            auto parts = tree::split_path(name, path);
            for (const auto& p : parts)
                where += (where.empty() ? "" : "/") + p;
        } catch (const Error& err) {
            // ".." (the path leaves the tree), or longer than the limit: then
            // split_path's message names the archive and only the path's start.
            const bool dotdot = ("/" + name + "/").find("/../") != std::string::npos;
            problems.push_back(dotdot ? origin + ": path leaves the tree" : std::string(err.what()));
            continue;
        }
        where = join(options.prefix, where);

        tree::Node n;
        n.origin = origin;
        n.type = node_type(archive_entry_filetype(e));
        n.mode = archive_entry_perm(e) & 07777;
        n.mtime = options.mtime;
        if (options.keep_owners) {
            n.uid = static_cast<uint32_t>(archive_entry_uid(e));
            n.gid = static_cast<uint32_t>(archive_entry_gid(e));
        }
        if (options.xattrs) {
            const char* key;
            const void* value;
            size_t size;
            archive_entry_xattr_reset(e);
            while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
                if (storable_xattr(key))
                    n.xattrs.push_back({key, std::string(static_cast<const char*>(value), size)});
                else
                    reporter.warn(origin + ": xattr " + key + " is not stored");
            }
            // pax archives may carry an attribute twice (LIBARCHIVE.xattr and
            // SCHILY.xattr); keep one of each key.
            std::stable_sort(n.xattrs.begin(), n.xattrs.end(),
                             [](const auto& x, const auto& y) { return x.key < y.key; });
            n.xattrs.erase(std::unique(n.xattrs.begin(), n.xattrs.end(),
                                       [](const auto& x, const auto& y) { return x.key == y.key; }),
                           n.xattrs.end());
        }
        const uint64_t size =
            archive_entry_size_is_set(e) ? static_cast<uint64_t>(archive_entry_size(e)) : 0;
        if (const char* link = archive_entry_hardlink(e)) {
            tree::Node* target = nullptr;
            try {
                target = tree.find(join(options.prefix, link));
            } catch (const Error&) {
            }
            if (target == nullptr || target->type != tree::NodeType::File || target->hardlink) {
                problems.push_back(origin + ": hard link to " + quote(link) +
                                   ", which is not a file earlier in the archive");
                continue;
            }
            if (size > 0 && target->content.size == 0) {
                // cpio keeps a hard-linked file's data with its last name.
                content_total += size;
                if (content_total > limit)
                    throw_input(origin + ": the archive expands to more than " +
                                format_size(limit) + "; refusing a possible decompression bomb");
                if (!options.blob_dir.empty()) {
                    target->content = {tree::Content::Kind::Disk,
                                       store_blob(a.get(), e, options.blob_dir, path, name, size),
                                       nullptr,
                                       nullptr,
                                       0,
                                       size};
                } else {
                    target->content = {
                        tree::Content::Kind::Stream, "", nullptr, nullptr, seq, size};
                    want_data(seq, e, size);
                    streamed.emplace_back(target, seq);
                }
            }
            n.type = tree::NodeType::File;
            n.hardlink = target;
            add_entry(tree, where, std::move(n), origin, problems);
            continue;
        }
        switch (n.type) {
        case tree::NodeType::Symlink: {
            const char* target = archive_entry_symlink(e);
            n.link_target = target ? target : "";
            break;
        }
        case tree::NodeType::CharDevice:
        case tree::NodeType::BlockDevice:
            n.rdev = archive_entry_rdev(e);
            break;
        case tree::NodeType::File:
            if (archive_entry_filetype(e) != AE_IFREG) {
                problems.push_back(origin + ": unsupported entry type");
                continue;
            }
            n.content.size = size;
            if (size > 0) {
                content_total += size;
                if (content_total > limit)
                    break; // refused below, before any data is read
                if (!options.blob_dir.empty()) {
                    n.content.kind = tree::Content::Kind::Disk;
                    n.content.disk_path =
                        store_blob(a.get(), e, options.blob_dir, path, name, size);
                } else {
                    n.content.kind = tree::Content::Kind::Stream;
                    n.content.stream_index = seq;
                    want_data(seq, e, size);
                }
            }
            break;
        default:
            break;
        }
        if (content_total > limit)
            throw_input(origin + ": the archive expands to more than " + format_size(limit) +
                        " (archive is " + format_size(static_cast<uint64_t>(st.st_size)) +
                        "); refusing a possible decompression bomb");
        if (tree::Node* existing = tree.find(where);
            existing && !(existing->is_dir() && n.is_dir())) {
            problems.push_back(origin + ": " + quote(where) + " appears twice in the archive");
            continue;
        }
        tree::Node* added = add_entry(tree, where, std::move(n), origin, problems);
        if (added && added->content.kind == tree::Content::Kind::Stream)
            streamed.emplace_back(added, seq);
    }
    if (streamed.empty())
        return;
    auto stream = std::make_shared<ArchiveStream>(path, std::move(entries), std::move(file));
    for (auto& [node, seq] : streamed)
        node->content.stream = stream;
}

} // namespace sysext::source

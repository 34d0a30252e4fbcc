#include "sysext/source/archive.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/error.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace sysext::source {

namespace {

struct Entry {
    std::string path;
    std::string data;
    mode_t type = AE_IFREG;
    std::string link; // symlink target, or hard link target when hard is set
    bool hard = false;
};

// Writes a pax tar (optionally zstd-compressed) with libarchive's writer.
void write_tar(const std::string& path, const std::vector<Entry>& entries, bool zstd = false,
               bool gzip = false) {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (zstd)
        archive_write_add_filter_zstd(a);
    if (gzip)
        archive_write_add_filter_gzip(a);
    ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
    for (const auto& e : entries) {
        archive_entry* ae = archive_entry_new();
        archive_entry_set_pathname(ae, e.path.c_str());
        archive_entry_set_filetype(ae, e.type);
        archive_entry_set_perm(ae, e.type == AE_IFDIR ? 0755 : 0644);
        if (e.hard) {
            archive_entry_set_hardlink(ae, e.link.c_str());
        } else if (e.type == AE_IFLNK) {
            archive_entry_set_symlink(ae, e.link.c_str());
        } else if (e.type == AE_IFREG) {
            archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
            archive_entry_xattr_add_entry(ae, "user.k", "v", 1);
        }
        archive_write_header(a, ae);
        if (!e.data.empty())
            archive_write_data(a, e.data.data(), e.data.size());
        archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
}

std::string content_of(const tree::Node& n) {
    std::string out;
    tree::read_content(
        n.inode(), [&](const void* p, size_t s) { out.append(static_cast<const char*>(p), s); });
    return out;
}

} // namespace

TEST(Archive, EntriesInAnyOrderAreDeliveredInTreeOrder) {
    test::TempDir dir;
    std::string big(3 << 20, 'b');
    for (size_t i = 0; i < big.size(); i += 4096)
        big[i] = static_cast<char>('a' + i % 26);
    // Deliberately not in tree order: z before a, nested dir after its sibling.
    write_tar(dir / "t.tar.zst",
              {{"usr/z", "last"},
               {"usr/m/big", big},
               {"usr/a", "first"},
               {"usr/bin/", "", AE_IFDIR},
               {"usr/bin/link", "", AE_IFLNK, "../a"},
               {"usr/hard", "", AE_IFREG, "usr/a", true}},
              /*zstd=*/true);
    tree::Tree t;
    std::vector<std::string> problems;
    add_archive(t, dir / "t.tar.zst", {}, problems, null_reporter());
    ASSERT_TRUE(problems.empty()) << problems[0];
    // The writer asks in depth-first bytewise order; entries read early are parked.
    EXPECT_EQ(content_of(*t.find("usr/a")), "first");
    EXPECT_EQ(content_of(*t.find("usr/m/big")), big);
    EXPECT_EQ(content_of(*t.find("usr/z")), "last");
    EXPECT_EQ(t.find("usr/bin/link")->link_target, "../a");
    EXPECT_EQ(t.find("usr/hard")->hardlink, t.find("usr/a"));
    ASSERT_EQ(t.find("usr/a")->xattrs.size(), 1u);
    EXPECT_EQ(t.find("usr/a")->xattrs[0].key, "user.k");
    EXPECT_EQ(t.find("usr/a")->uid, 0u);
}

TEST(Archive, UncompressedTarIsReadInPlaceInAnyOrder) {
    // A plain tar's data is read where the first pass found it; long names
    // (pax headers before the entry's own) must not shift the offsets.
    test::TempDir dir;
    const std::string long_dir = "usr/" + std::string(120, 'd');
    std::string big(2 << 20, 'x');
    for (size_t i = 0; i < big.size(); i += 511)
        big[i] = static_cast<char>(i % 251);
    write_tar(dir / "t.tar", {{"usr/z", "last"},
                              {long_dir + "/" + std::string(90, 'n'), big},
                              {"usr/a", "first"},
                              {"usr/empty", ""},
                              {"usr/hard", "", AE_IFREG, "usr/a", true}});
    tree::Tree t;
    std::vector<std::string> problems;
    add_archive(t, dir / "t.tar", {}, problems, null_reporter());
    ASSERT_TRUE(problems.empty()) << problems[0];
    EXPECT_EQ(content_of(*t.find("usr/z")), "last");
    EXPECT_EQ(content_of(*t.find("usr/a")), "first");
    EXPECT_EQ(content_of(*t.find(long_dir + "/" + std::string(90, 'n'))), big);
    EXPECT_EQ(content_of(*t.find("usr/empty")), "");
    EXPECT_EQ(content_of(*t.find("usr/hard")), "first");
}

TEST(Archive, SparseTarEntriesAreExpanded) {
    test::TempDir dir;
    const std::string root = dir / "root";
    std::filesystem::create_directories(root + "/usr");
    test::run("truncate -s 3M " + root + "/usr/sparse && printf data | dd of=" + root +
              "/usr/sparse bs=1 seek=1048576 conv=notrunc status=none");
    int status = 0;
    test::run("tar --format=gnu -S -C " + root + " -cf " + (dir / "s.tar") + " usr", &status);
    ASSERT_EQ(status, 0);
    tree::Tree t;
    std::vector<std::string> problems;
    add_archive(t, dir / "s.tar", {}, problems, null_reporter());
    ASSERT_TRUE(problems.empty()) << problems[0];
    std::string expected(3 << 20, '\0');
    expected.replace(1 << 20, 4, "data");
    EXPECT_EQ(content_of(*t.find("usr/sparse")), expected);
}

TEST(Archive, TarChangedBetweenThePassesIsRefused) {
    test::TempDir dir;
    write_tar(dir / "t.tar", {{"usr/b", "bbbb"}, {"usr/a", "aaaa"}});
    tree::Tree t;
    std::vector<std::string> problems;
    add_archive(t, dir / "t.tar", {}, problems, null_reporter());
    ASSERT_TRUE(problems.empty());
    // Same size, new bytes: only the file's change time tells.
    test::run("sleep 0.01; printf X | dd of=" + (dir / "t.tar") +
              " bs=1 seek=1100 conv=notrunc status=none");
    try {
        content_of(*t.find("usr/a"));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_NE(std::string(e.what()).find("changed while it was being read"), std::string::npos)
            << e.what();
    }
}

TEST(Archive, HostilePathsAreProblemsNamingTheEntry) {
    test::TempDir dir;
    write_tar(dir / "bad.tar", {{"../etc/passwd", "x"},
                                {"/usr/abs", "y"},
                                {"usr/ok", "z"},
                                {"usr/ok", "again"},
                                {"usr/h", "", AE_IFREG, "usr/missing", true}});
    tree::Tree t;
    std::vector<std::string> problems;
    add_archive(t, dir / "bad.tar", {}, problems, null_reporter());
    ASSERT_EQ(problems.size(), 4u);
    const std::string a = dir / "bad.tar";
    EXPECT_EQ(problems[0], a + ": ../etc/passwd: path leaves the tree");
    EXPECT_EQ(problems[1], a + ": /usr/abs: absolute path (entries must be relative to the tree)");
    EXPECT_EQ(problems[2], a + ": usr/ok: \"usr/ok\" appears twice in the archive");
    EXPECT_EQ(
        problems[3],
        a + ": usr/h: hard link to \"usr/missing\", which is not a file earlier in the archive");
}

TEST(Archive, TruncatedArchiveIsAnInputError) {
    test::TempDir dir;
    write_tar(dir / "t.tar",
              {{"usr/a", std::string(100000, 'a')}, {"usr/b", std::string(100000, 'b')}});
    std::filesystem::resize_file(dir / "t.tar", 60000);
    tree::Tree t;
    std::vector<std::string> problems;
    try {
        add_archive(t, dir / "t.tar", {}, problems, null_reporter());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_NE(std::string(e.what()).find(dir / "t.tar: "), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("runcated"), std::string::npos) << e.what();
    }
}

TEST(Archive, GzipChecksumIsChecked) {
    // libarchive itself ignores gzip's CRC; damaged data must not pack silently.
    test::TempDir dir;
    write_tar(dir / "t.tar.gz", {{"usr/a", std::string(50000, 'a')}}, false, /*gzip=*/true);
    std::string bytes;
    {
        std::ifstream in(dir / "t.tar.gz", std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    bytes[bytes.size() - 8] ^= 0x55; // the CRC32 in the trailer
    test::write_text(dir / "bad.tar.gz", bytes);
    tree::Tree ok;
    std::vector<std::string> problems;
    EXPECT_NO_THROW(add_archive(ok, dir / "t.tar.gz", {}, problems, null_reporter()));
    tree::Tree t;
    try {
        add_archive(t, dir / "bad.tar.gz", {}, problems, null_reporter());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("damaged gzip data"), std::string::npos) << e.what();
    }
}

TEST(Archive, GzipCutInItsTrailerIsAnInputError) {
    // Found by fuzzing: libarchive fails to open a gzip stream that ends inside
    // its trailer without giving a reason, and the null reason crashed pack.
    test::TempDir dir;
    write_tar(dir / "t.tar.gz", {{"usr/a", "a"}}, false, /*gzip=*/true);
    std::filesystem::resize_file(dir / "t.tar.gz",
                                 std::filesystem::file_size(dir / "t.tar.gz") - 4);
    tree::Tree t;
    std::vector<std::string> problems;
    try {
        add_archive(t, dir / "t.tar.gz", {}, problems, null_reporter());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()), dir / "t.tar.gz" + ": unreadable archive");
    }
}

TEST(Archive, CpioNameLongerThanAPathIsRefusedBeforeLibarchiveReadsIt) {
    // Found by fuzzing: libarchive holds a cpio entry's name in memory whole,
    // at the size its header claims (a 117 kB .cpio.zst claiming a 3 GB name
    // took 3 GB). Plain and compressed, such a header is refused unread.
    test::TempDir dir;
    std::string header = "070701";
    for (const char* field :
         {"00000001", "000081A4", "00000000", "00000000", "00000001", "00000000", "00000000",
          "00000000", "00000000", "00000000", "00000000", "BBBBBBBB", "00000000"})
        header += field;
    test::write_text(dir / "big-name.cpio", header + "usr/a" + std::string(1000, '\0'));
    int status = 0;
    test::run("cd '" + dir.path() +
                  "' && zstd -q big-name.cpio && mkdir -p ok/usr && echo a >ok/usr/a && "
                  "cd ok && find usr | cpio --quiet -o -H newc | zstd -q >../ok.cpio.zst",
              &status);
    ASSERT_EQ(status, 0);
    for (const char* name : {"big-name.cpio", "big-name.cpio.zst"}) {
        tree::Tree t;
        std::vector<std::string> problems;
        try {
            add_archive(t, dir / name, {}, problems, null_reporter());
            FAIL() << name << ": expected an error";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Input);
            EXPECT_EQ(std::string(e.what()),
                      dir / name + ": the cpio header at byte 0 claims a name of 3149642683 "
                                   "bytes; a path has at most 4095");
        }
    }
    tree::Tree t;
    std::vector<std::string> problems;
    add_archive(t, dir / "ok.cpio.zst", {}, problems, null_reporter());
    EXPECT_TRUE(problems.empty());
    ASSERT_NE(t.find("usr/a"), nullptr);
    EXPECT_EQ(content_of(*t.find("usr/a")), "a\n");
}

TEST(Archive, DecompressionBombIsRefused) {
    test::TempDir dir;
    write_tar(dir / "bomb.tar.zst", {{"usr/zeros", std::string(8 << 20, '\0')}}, true);
    tree::Tree t;
    std::vector<std::string> problems;
    SourceOptions o;
    o.max_content_bytes = 4 << 20;
    try {
        add_archive(t, dir / "bomb.tar.zst", o, problems, null_reporter());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("refusing a possible decompression bomb"),
                  std::string::npos)
            << e.what();
    }
}

TEST(Archive, NotAnArchive) {
    test::TempDir dir;
    test::write_text(dir / "plain.txt", "just text, not an archive\n");
    tree::Tree t;
    std::vector<std::string> problems;
    EXPECT_THROW(add_archive(t, dir / "plain.txt", {}, problems, null_reporter()), Error);
}

} // namespace sysext::source

namespace sysext::source {

TEST(Archive, BlobModeKeepsContentsOnDiskByHash) {
    test::TempDir dir;
    write_tar(dir / "t.tar", {{"usr/b", "same"},
                              {"usr/a", "same"},
                              {"usr/c", "other"},
                              {"usr/h", "", AE_IFREG, "usr/b", true}});
    std::filesystem::create_directory(dir / "blobs");
    tree::Tree t;
    std::vector<std::string> problems;
    SourceOptions o;
    o.blob_dir = dir / "blobs";
    add_archive(t, dir / "t.tar", o, problems, null_reporter());
    ASSERT_TRUE(problems.empty());
    const auto& a = t.find("usr/a")->content;
    EXPECT_EQ(a.kind, tree::Content::Kind::Disk);
    EXPECT_EQ(a.disk_path, t.find("usr/b")->content.disk_path); // stored once
    EXPECT_EQ(a.disk_path,
              dir / "blobs/" +
                  std::string("0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5"));
    // Read twice: blobs are not a one-shot stream.
    EXPECT_EQ(content_of(*t.find("usr/c")), "other");
    EXPECT_EQ(content_of(*t.find("usr/c")), "other");
    EXPECT_EQ(content_of(*t.find("usr/h")), "same");
    size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir / "blobs")) {
        (void)e;
        ++files;
    }
    EXPECT_EQ(files, 2u);
}

} // namespace sysext::source

namespace sysext::source {

// Found by fuzzing: an entry below a file (or a device, or a hard link) threw
// Tree's own message, which named neither the archive nor the entry.
TEST(Archive, EntryBelowANonDirectoryIsAProblemNamingTheArchive) {
    test::TempDir dir;
    write_tar(dir / "t.tar", {{"usr/f", "file"},
                              {"usr/f/below", "x"},
                              {"usr/h", "", AE_IFREG, "usr/f", true},
                              {"usr/h/below", "", AE_IFREG, "usr/f", true},
                              {"usr/ok", "ok"}});
    tree::Tree t;
    std::vector<std::string> problems;
    add_archive(t, dir / "t.tar", {}, problems, null_reporter());
    const std::string a = dir / "t.tar";
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].rfind(a + ": usr/f/below: ", 0), 0u) << problems[0];
    EXPECT_NE(problems[0].find("not a directory"), std::string::npos) << problems[0];
    EXPECT_EQ(problems[1].rfind(a + ": usr/h/below: ", 0), 0u) << problems[1];
    EXPECT_EQ(content_of(*t.find("usr/ok")), "ok");
}

} // namespace sysext::source

namespace sysext::source {

namespace {

std::string octal(uint64_t v) {
    char buf[13];
    std::snprintf(buf, sizeof buf, "%011llo", static_cast<unsigned long long>(v));
    return buf;
}

// One tar header block, built by hand so that it can say what no writer would.
// `magic` is "ustar\0" "00" for POSIX, "ustar  \0" for GNU.
std::string tar_header(const std::string& name, char type, uint64_t size,
                       const std::string& magic, uint64_t gnu_real_size = 0) {
    std::string h(512, '\0');
    auto put = [&](size_t at, const std::string& text) { h.replace(at, text.size(), text); };
    put(0, name);
    put(100, "0000644");
    put(108, "0000000");
    put(116, "0000000");
    put(124, octal(size));
    put(136, octal(0));
    put(156, std::string(1, type));
    put(257, magic);
    if (gnu_real_size != 0)
        put(483, octal(gnu_real_size));
    put(148, "        ");
    unsigned sum = 0;
    for (unsigned char c : h)
        sum += c;
    char cksum[8];
    std::snprintf(cksum, sizeof cksum, "%06o", sum);
    put(148, std::string(cksum, 7));
    return h;
}

std::string padded(std::string data) {
    data.resize((data.size() + 511) / 512 * 512, '\0');
    return data;
}

// A GNU hard link (type '1') without a target but with a real-size field,
// which libarchive reports as the entry's size while it delivers no data.
std::string gnu_link_with_real_size(const std::string& name, uint64_t real_size) {
    return tar_header(name, '1', 100, std::string("ustar  \0", 8), real_size) +
           std::string(1024, '\0');
}

} // namespace

// Found by fuzzing: in blob mode (sysext-build build) such an entry's blob was
// the empty file, and the size check while packing named the work directory's
// blob instead of the archive and the entry.
TEST(Archive, BlobModeChecksTheEntrysSize) {
    test::TempDir dir;
    {
        std::ofstream out(dir / "short.tar", std::ios::binary);
        out << gnu_link_with_real_size("usr/s", 8192);
    }
    std::filesystem::create_directory(dir / "blobs");
    tree::Tree t;
    std::vector<std::string> problems;
    SourceOptions o;
    o.blob_dir = dir / "blobs";
    try {
        add_archive(t, dir / "short.tar", o, problems, null_reporter());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()),
                  dir / "short.tar" + ": usr/s: entry holds 0 bytes, its header says 8192");
    }
    EXPECT_TRUE(std::filesystem::is_empty(dir / "blobs"));
    // Streamed, the same entry is refused when its data is read.
    tree::Tree streamed;
    add_archive(streamed, dir / "short.tar", {}, problems, null_reporter());
    ASSERT_TRUE(problems.empty());
    EXPECT_THROW(content_of(*streamed.find("usr/s")), Error);
}

} // namespace sysext::source

namespace sysext::source {

namespace {

// A pax sparse 1.0 entry (GNU.sparse.* records, the map at the start of the
// data) whose one block lies at ~100 GB while the real size says 8 KiB:
// libarchive fills the hole with zeros up to there.
void write_sparse_overrun(const std::string& path) {
    const std::string records = "22 GNU.sparse.major=1\n22 GNU.sparse.minor=0\n"
                                "25 GNU.sparse.name=usr/s\n28 GNU.sparse.realsize=8192\n";
    const std::string data = padded("1\n99999999999\n512\n") + std::string(512, 'D');
    const std::string posix("ustar\0" "00", 8);
    std::ofstream out(path, std::ios::binary);
    out << tar_header("usr/PaxHeaders/s", 'x', records.size(), posix) << padded(records)
        << tar_header("usr/GNUSparseFile.0/s", '0', data.size(), posix) << data
        << std::string(1024, '\0');
}

} // namespace

// Found by fuzzing: such a 3 KB tar made pack push ~100 GB of zeros into the
// image writer (a hang), and build write them to a blob on disk.
TEST(Archive, SparseMapBeyondTheRealSizeIsRefusedAtOnce) {
    test::TempDir dir;
    write_sparse_overrun(dir / "t.tar");
    for (bool blobs : {false, true}) {
        std::filesystem::create_directories(dir / "blobs");
        SourceOptions o;
        if (blobs)
            o.blob_dir = dir / "blobs";
        tree::Tree t;
        std::vector<std::string> problems;
        try {
            add_archive(t, dir / "t.tar", o, problems, null_reporter());
            ASSERT_FALSE(blobs) << "blob mode reads the data in the first pass";
            ASSERT_TRUE(problems.empty()) << problems[0];
            ASSERT_EQ(t.find("usr/s")->content.size, 8192u);
            content_of(*t.find("usr/s"));
            FAIL() << "expected an error";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Input);
            EXPECT_NE(std::string(e.what()).find(dir / "t.tar" + ": usr/s: "), std::string::npos)
                << e.what();
        }
        EXPECT_TRUE(std::filesystem::is_empty(dir / "blobs"));
    }
}

} // namespace sysext::source

namespace sysext::source {

// The second pass of a compressed archive reads the file the first pass read:
// one renamed over it in between is not read, one changed in place is refused.
TEST(Archive, CompressedArchiveReplacedBetweenThePassesIsNotRead) {
    test::TempDir dir;
    write_tar(dir / "t.tar.zst", {{"usr/b", "bbbb"}, {"usr/a", "aaaa"}}, /*zstd=*/true);
    write_tar(dir / "other.tar.zst", {{"usr/b", "BBBB"}, {"usr/a", "AAAA"}}, /*zstd=*/true);
    tree::Tree t;
    std::vector<std::string> problems;
    add_archive(t, dir / "t.tar.zst", {}, problems, null_reporter());
    ASSERT_TRUE(problems.empty());
    std::filesystem::rename(dir / "other.tar.zst", dir / "t.tar.zst");
    EXPECT_EQ(content_of(*t.find("usr/a")), "aaaa");
    EXPECT_EQ(content_of(*t.find("usr/b")), "bbbb");

    write_tar(dir / "u.tar.zst", {{"usr/b", "bbbb"}, {"usr/a", "aaaa"}}, /*zstd=*/true);
    tree::Tree u;
    add_archive(u, dir / "u.tar.zst", {}, problems, null_reporter());
    test::run("sleep 0.01; printf X | dd of=" + (dir / "u.tar.zst") +
              " bs=1 seek=20 conv=notrunc status=none");
    try {
        content_of(*u.find("usr/a"));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), dir / "u.tar.zst" + ": changed while it was being read");
    }
}

} // namespace sysext::source

// Packages built by their own tools (dpkg-deb, rpmbuild, tar + zstd for GPKG,
// tar + bzip2 + an XPAK block for .tbz2), read into a tree.
#include "sysext/source/package_source.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/error.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

namespace sysext::source {

namespace {

using sysext::test::run;
using sysext::test::TempDir;
using sysext::test::write_text;

std::string content_of(const tree::Node& n) {
    std::string out;
    tree::read_content(n, [&](const void* data, size_t size) {
        out.append(static_cast<const char*>(data), size);
    });
    return out;
}

// usr/bin/tool (0755), usr/bin/tool-link -> tool, usr/share/tool/data
void make_files(const std::string& root) {
    write_text(root + "/usr/bin/tool", "#!/bin/sh\necho tool\n");
    write_text(root + "/usr/share/tool/data", "data\n");
    run("chmod 755 '" + root + "/usr/bin/tool' && ln -s tool '" + root + "/usr/bin/tool-link'");
}

void expect_files(tree::Tree& t, const std::string& prefix = "") {
    const tree::Node* tool = t.find(prefix + "usr/bin/tool");
    ASSERT_NE(tool, nullptr);
    EXPECT_EQ(tool->mode, 0755u);
    EXPECT_EQ(content_of(*tool), "#!/bin/sh\necho tool\n");
    const tree::Node* link = t.find(prefix + "usr/bin/tool-link");
    ASSERT_NE(link, nullptr);
    EXPECT_EQ(link->type, tree::NodeType::Symlink);
    EXPECT_EQ(link->link_target, "tool");
    ASSERT_NE(t.find(prefix + "usr/share/tool/data"), nullptr);
    EXPECT_EQ(content_of(*t.find(prefix + "usr/share/tool/data")), "data\n");
}

std::string build_deb(const TempDir& dir, const std::string& compression) {
    const std::string root = dir / ("deb-" + compression);
    make_files(root);
    write_text(root + "/DEBIAN/control", "Package: tool\nVersion: 1.0-1\nArchitecture: amd64\n"
                                         "Maintainer: T <t@127.0.0.1>\nDescription: t\n");
    const std::string deb = dir / ("tool-" + compression + ".deb");
    int status = 0;
    run("dpkg-deb --root-owner-group -Z" + compression + " --build '" + root + "' '" + deb +
            "' >/dev/null",
        &status);
    EXPECT_EQ(status, 0);
    return deb;
}

} // namespace

TEST(PackageSource, DebWithEachCompression) {
    TempDir dir;
    for (const char* compression : {"xz", "gzip", "zstd", "none"}) {
        SCOPED_TRACE(compression);
        std::string deb = build_deb(dir, compression);
        EXPECT_EQ(detect_package_format(deb), PackageFormat::Deb);
        tree::Tree t;
        std::vector<std::string> problems;
        add_package(t, deb, {}, problems, null_reporter());
        EXPECT_TRUE(problems.empty());
        expect_files(t);
        EXPECT_EQ(t.find("DEBIAN"), nullptr); // control files are not data
        std::string member =
            std::string("data.tar") + (std::string(compression) == "none"   ? ""
                                       : std::string(compression) == "gzip" ? ".gz"
                                       : std::string(compression) == "zstd" ? ".zst"
                                                                            : ".xz");
        EXPECT_EQ(t.find("usr/bin/tool")->origin, deb + ": " + member + ": ./usr/bin/tool");
    }
}

TEST(PackageSource, DebEntriesAreCheckedLikeAnyArchive) {
    TempDir dir;
    // A hand-made .deb whose data.tar.xz holds a path leaving the tree.
    write_text(dir / "stage/x/ok", "ok\n");
    write_text(dir / "debian-binary", "2.0\n");
    int status = 0;
    run("cd '" + dir.path() +
            "' && tar -cJf control.tar.xz debian-binary && "
            "tar -cJf data.tar.xz -C stage/x ok --transform 's,^ok,../escape,' && "
            "ar rc evil.deb debian-binary control.tar.xz data.tar.xz",
        &status);
    ASSERT_EQ(status, 0);
    tree::Tree t;
    std::vector<std::string> problems;
    add_package(t, dir / "evil.deb", {}, problems, null_reporter());
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0], dir / "evil.deb" + ": data.tar.xz: ../escape: path leaves the tree");

    // A damaged data member: the error names the package and the member.
    run("cd '" + dir.path() +
        "' && head -c 60 data.tar.xz > cut.tar.xz && mv cut.tar.xz data.tar.xz && "
        "rm -f cut.deb && ar rc cut.deb debian-binary control.tar.xz data.tar.xz");
    tree::Tree t2;
    try {
        add_package(t2, dir / "cut.deb", {}, problems, null_reporter());
        FAIL() << "a truncated data.tar.xz was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind(dir / "cut.deb" + ": data.tar.xz: ", 0), 0u)
            << e.what();
        EXPECT_EQ(std::string(e.what()).find("/proc/self/fd"), std::string::npos) << e.what();
    }

    write_text(dir / "debian-binary", "3.0\n");
    run("cd '" + dir.path() + "' && ar rc v3.deb debian-binary data.tar.xz");
    try {
        add_package(t2, dir / "v3.deb", {}, problems, null_reporter());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  dir / "v3.deb" +
                      ": not a Debian binary package (no debian-binary 2.x member first)");
    }
}

TEST(PackageSource, DebWithACutGzipDataMemberIsAnInputError) {
    // Found by fuzzing: a data.tar.gz that ends inside its gzip trailer made
    // libarchive fail without a reason, and the null reason crashed build.
    TempDir dir;
    write_text(dir / "stage/usr/a", "a\n");
    write_text(dir / "debian-binary", "2.0\n");
    int status = 0;
    run("cd '" + dir.path() +
            "' && tar -czf control.tar.gz debian-binary && tar -czf data.tar.gz -C stage usr && "
            "truncate -s -4 data.tar.gz && ar rc cut.deb debian-binary control.tar.gz data.tar.gz",
        &status);
    ASSERT_EQ(status, 0);
    tree::Tree t;
    std::vector<std::string> problems;
    try {
        add_package(t, dir / "cut.deb", {}, problems, null_reporter());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(std::string(e.what()), dir / "cut.deb" + ": data.tar.gz: unreadable archive");
    }
}

TEST(PackageSource, Rpm) {
    TempDir dir;
    make_files(dir / "files");
    write_text(dir / "tool.spec",
               "Name: tool\nVersion: 1.2\nRelease: 1\nSummary: t\nLicense: MIT\n"
               "BuildArch: noarch\n%description\nt\n%install\n"
               "cp -a " +
                   dir / "files" +
                   "/. %{buildroot}/\n"
                   "%files\n/usr/bin/tool\n/usr/bin/tool-link\n/usr/share/tool\n");
    for (const char* payload : {"w19.zstdio", "w9.gzdio", "w6.xzdio"}) {
        SCOPED_TRACE(payload);
        int status = 0;
        std::string out = run("rpmbuild --quiet --define '_topdir " + dir / "top" +
                                  "' --define '_binary_payload " + payload + "' -bb '" +
                                  dir / "tool.spec" + "' 2>&1",
                              &status);
        ASSERT_EQ(status, 0) << out;
        const std::string rpm = dir / "top/RPMS/noarch/tool-1.2-1.noarch.rpm";
        EXPECT_EQ(detect_package_format(rpm), PackageFormat::Rpm);
        tree::Tree t;
        std::vector<std::string> problems;
        add_package(t, rpm, {}, problems, null_reporter());
        EXPECT_TRUE(problems.empty());
        expect_files(t);
    }
}

TEST(PackageSource, GentooGpkg) {
    TempDir dir;
    make_files(dir / "stage/image");
    write_text(dir / "pkg/tool-1.0/gpkg-1", "gpkg-1\n");
    write_text(dir / "meta/metadata/CATEGORY", "app-containers\n");
    int status = 0;
    run("cd '" + dir.path() +
            "' && tar --sort=name -C stage -cf - image | zstd -q > pkg/tool-1.0/image.tar.zst && "
            "tar -C meta -cf - metadata | zstd -q > pkg/tool-1.0/metadata.tar.zst && "
            "echo sig > pkg/tool-1.0/image.tar.zst.sig && "
            "tar -C pkg -cf tool-1.0-1.gpkg.tar tool-1.0/gpkg-1 tool-1.0/metadata.tar.zst "
            "tool-1.0/image.tar.zst "
            "tool-1.0/image.tar.zst.sig",
        &status);
    ASSERT_EQ(status, 0);
    const std::string gpkg = dir / "tool-1.0-1.gpkg.tar";
    EXPECT_EQ(detect_package_format(gpkg), PackageFormat::Gpkg);
    tree::Tree t;
    std::vector<std::string> problems;
    SourceOptions options;
    options.prefix = "opt/x";
    add_package(t, gpkg, options, problems, null_reporter());
    EXPECT_TRUE(problems.empty()) << problems.front();
    expect_files(t, "opt/x/");
    EXPECT_EQ(t.find("opt/x/image"), nullptr);
    EXPECT_EQ(t.find("opt/x/usr/bin/tool")->origin,
              gpkg + ": tool-1.0/image.tar.zst: image/usr/bin/tool");

    // Read into a tree that already has one of its files: reported, nothing moved.
    tree::Tree t2;
    std::vector<std::string> problems2;
    add_package(t2, build_deb(dir, "xz"), {}, problems2, null_reporter());
    add_package(t2, gpkg, {}, problems2, null_reporter());
    ASSERT_EQ(problems2.size(), 3u); // tool, tool-link and data
    EXPECT_EQ(problems2[0],
              gpkg +
                  ": tool-1.0/image.tar.zst: image/usr/bin/tool: \"usr/bin/tool\" is already "
                  "in the tree (from " +
                  dir / "tool-xz.deb" + ": data.tar.xz: ./usr/bin/tool)");
    expect_files(t2);
}

TEST(PackageSource, GentooXpak) {
    TempDir dir;
    make_files(dir / "stage");
    int status = 0;
    run("cd '" + dir.path() + "' && tar --sort=name -C stage -cjf tool-1.0.tbz2 usr", &status);
    ASSERT_EQ(status, 0);
    // XPAK: "XPAKPACK", index and data lengths, index (name length, name, data
    // offset, data length), data, "XPAKSTOP"; then the block's length and "STOP".
    run("python3 - '" + dir / "tool-1.0.tbz2" +
            "' <<'PY'\n"
            "import struct, sys\n"
            "items = [(b'CATEGORY', b'app-containers\\n'), (b'PF', b'tool-1.0\\n')]\n"
            "index = b''; data = b''\n"
            "for k, v in items:\n"
            "    index += struct.pack('>I', len(k)) + k + struct.pack('>II', len(data), len(v)); "
            "data += v\n"
            "block = b'XPAKPACK' + struct.pack('>II', len(index), len(data)) + index + data + "
            "b'XPAKSTOP'\n"
            "open(sys.argv[1], 'ab').write(block + struct.pack('>I', len(block)) + b'STOP')\n"
            "PY",
        &status);
    ASSERT_EQ(status, 0);
    const std::string tbz2 = dir / "tool-1.0.tbz2";
    EXPECT_EQ(detect_package_format(tbz2), PackageFormat::Xpak);
    tree::Tree t;
    std::vector<std::string> problems;
    add_package(t, tbz2, {}, problems, null_reporter());
    EXPECT_TRUE(problems.empty());
    expect_files(t);
    EXPECT_EQ(t.find("usr/bin/tool")->origin, tbz2 + ": usr/bin/tool");

    // A trailer pointing at no XPAK block.
    run("cd '" + dir.path() +
        "' && head -c -8 tool-1.0.tbz2 > bad.tbz2 && printf '\\000\\000\\000\\040STOP' >> "
        "bad.tbz2");
    tree::Tree t2;
    try {
        add_package(t2, dir / "bad.tbz2", {}, problems, null_reporter());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  dir / "bad.tbz2" + ": bad XPAK block (no XPAKPACK where the trailer points)");
    }
}

TEST(PackageSource, PlainArchivesPassThrough) {
    TempDir dir;
    make_files(dir / "stage");
    run("tar -C '" + dir / "stage" + "' -czf '" + dir / "files.tar.gz" + "' usr");
    EXPECT_EQ(detect_package_format(dir / "files.tar.gz"), PackageFormat::Archive);
    tree::Tree t;
    std::vector<std::string> problems;
    add_package(t, dir / "files.tar.gz", {}, problems, null_reporter());
    expect_files(t);
}

} // namespace sysext::source

// check_elf and BaseLibraries: a real binary of this machine against this
// machine's root and against fake base roots that lack a library, wrong
// machines, RUNPATH with $ORIGIN, merged-/usr symlinks, ld.so.conf, listings.
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/validate/elf.hpp"
#include "test_util.hpp"
#include "validate/elf_craft.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace sysext::validate {
namespace {

namespace fs = std::filesystem;
using test::craft_elf;
using test::CraftSpec;

const std::string k_ld = "/lib64/ld-linux-x86-64.so.2";
const std::string k_multiarch = "usr/lib/x86_64-linux-gnu";

void add_inline(tree::Tree& t, const std::string& path, const std::string& bytes) {
    tree::Node n;
    n.type = tree::NodeType::File;
    n.content.kind = tree::Content::Kind::Inline;
    n.content.bytes = std::make_shared<const std::string>(bytes);
    n.content.size = bytes.size();
    t.add(path, std::move(n));
}

void add_disk(tree::Tree& t, const std::string& path, const std::string& disk) {
    tree::Node n;
    n.type = tree::NodeType::File;
    n.content.kind = tree::Content::Kind::Disk;
    n.content.disk_path = disk;
    n.content.size = fs::file_size(disk);
    t.add(path, std::move(n));
}

void add_link(tree::Tree& t, const std::string& path, const std::string& target) {
    tree::Node n;
    n.type = tree::NodeType::Symlink;
    n.link_target = target;
    t.add(path, std::move(n));
}

std::string x86_64_lib(const std::string& soname, std::vector<std::string> needed = {}) {
    CraftSpec s;
    s.soname = soname;
    s.needed = std::move(needed);
    return craft_elf(s).bytes;
}

// A merged-/usr base root like Debian 13's, with the libraries given.
struct FakeBase {
    test::TempDir dir;
    explicit FakeBase(const std::vector<std::string>& libs, bool with_ld = true) {
        fs::create_directories(dir / k_multiarch);
        fs::create_directories(dir / "usr/lib64");
        fs::create_directories(dir / "etc");
        fs::create_symlink("usr/lib", dir / "lib");
        fs::create_symlink("usr/lib64", dir / "lib64");
        if (with_ld) {
            test::write_text(dir / (k_multiarch + "/ld-linux-x86-64.so.2"),
                             x86_64_lib("ld-linux-x86-64.so.2"));
            fs::create_symlink("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                               dir / "usr/lib64/ld-linux-x86-64.so.2");
        }
        for (const auto& lib : libs)
            test::write_text(dir / (k_multiarch + "/" + lib), x86_64_lib(lib));
    }
    BaseLibraries libraries() const { return BaseLibraries::from_root(dir.path()); }
};

ElfReport check(const tree::Tree& t, const std::string& arch, const BaseLibraries* base) {
    ElfCheckOptions o;
    o.architecture = arch;
    o.base = base;
    return check_elf(t, o);
}

using Problems = std::vector<std::string>;

TEST(ElfCheck, RealBinaryAgainstThisMachine) {
    tree::Tree t;
    add_disk(t, "usr/bin/ls", "/bin/ls");
    add_inline(t, "usr/share/doc/readme", "not ELF");
    BaseLibraries host = BaseLibraries::from_root("/");
    ElfReport r = check(t, "x86-64", &host);
    EXPECT_EQ(r.problems, Problems{});
    EXPECT_EQ(r.checked, 2u);
    EXPECT_EQ(r.elf_files, 1u);
    EXPECT_TRUE(host.has(k_ld));
    EXPECT_FALSE(host.has("/usr/lib/x86_64-linux-gnu/libnot-there.so.9"));
}

TEST(ElfCheck, WrongMachine) {
    std::string ls = read_file("/bin/ls");
    test::patch<uint16_t>(ls, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64);
    tree::Tree t;
    add_inline(t, "usr/bin/podman", ls);
    add_disk(t, "usr/bin/ls", "/bin/ls");
    BaseLibraries host = BaseLibraries::from_root("/");
    EXPECT_EQ(check(t, "x86-64", &host).problems,
              Problems{"usr/bin/podman: machine AArch64 does not match ARCHITECTURE=x86-64"});
    // For arm64 the AArch64 copy fits, but this host has no AArch64 loader or libraries.
    const Problems arm64 = check(t, "arm64", &host).problems;
    ASSERT_EQ(arm64.size(), 4u);
    EXPECT_EQ(arm64[0], "usr/bin/ls: machine x86-64 does not match ARCHITECTURE=arm64");
    EXPECT_EQ(arm64[1], "usr/bin/podman: interpreter " + k_ld +
                            " found neither in the extension nor in the base system "
                            "(/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 is x86-64, 64-bit)");
    EXPECT_EQ(arm64[3], "usr/bin/podman: needs libc.so.6, found neither in the extension nor in "
                        "the base system (/usr/lib/x86_64-linux-gnu/libc.so.6 is x86-64, 64-bit)");
    // No architecture: no machine check (the AArch64 copy's libraries are then
    // looked up in its own ABI's directories, which this host lacks).
    EXPECT_EQ(check(t, "_any", &host).problems.size(), 3u);
}

TEST(ElfCheck, WrongClassAndByteOrder) {
    CraftSpec s;
    s.machine = EM_386;
    s.is_64 = false;
    tree::Tree t;
    add_inline(t, "usr/lib/i386.so", craft_elf(s).bytes);
    s.machine = EM_PPC64;
    s.is_64 = true;
    s.little_endian = false;
    add_inline(t, "usr/lib/ppc64.so", craft_elf(s).bytes);
    EXPECT_EQ(check(t, "x86", nullptr).problems,
              Problems{"usr/lib/ppc64.so: machine PowerPC64 does not match ARCHITECTURE=x86"});
    EXPECT_EQ(check(t, "ppc64-le", nullptr).problems,
              (Problems{"usr/lib/i386.so: machine Intel 80386 does not match ARCHITECTURE=ppc64-le",
                        "usr/lib/ppc64.so: big-endian code does not match ARCHITECTURE=ppc64-le"}));
    s.machine = EM_X86_64;
    s.is_64 = false;
    s.little_endian = true;
    add_inline(t, "usr/lib/x32.so", craft_elf(s).bytes);
    EXPECT_EQ(check(t, "x86-64", nullptr).problems.back(),
              "usr/lib/x32.so: 32-bit x86-64 code does not match ARCHITECTURE=x86-64 (64-bit)");
}

TEST(ElfCheck, MissingLibraryNamesBinaryAndLibrary) {
    FakeBase base({"libc.so.6"}); // /bin/ls also needs libselinux.so.1
    BaseLibraries libs = base.libraries();
    tree::Tree t;
    add_disk(t, "usr/bin/crun", "/bin/ls");
    EXPECT_EQ(check(t, "x86-64", &libs).problems,
              Problems{"usr/bin/crun: needs libselinux.so.1, found neither in the extension nor "
                       "in the base system"});
    // The extension carries it: found in the merged /usr.
    add_inline(t, k_multiarch + "/libselinux.so.1", x86_64_lib("libselinux.so.1", {"libc.so.6"}));
    EXPECT_EQ(check(t, "x86-64", &libs).problems, Problems{});
}

TEST(ElfCheck, MissingInterpreter) {
    FakeBase base({"libc.so.6", "libselinux.so.1"}, false);
    BaseLibraries libs = base.libraries();
    tree::Tree t;
    add_disk(t, "usr/bin/ls", "/bin/ls");
    EXPECT_EQ(check(t, "x86-64", &libs).problems,
              Problems{"usr/bin/ls: interpreter " + k_ld +
                       " found neither in the extension nor in the base system"});
    // The extension may bring it below usr/; /lib64 reaches it through the base's symlink.
    add_inline(t, "usr/lib64/ld-linux-x86-64.so.2", x86_64_lib("ld-linux-x86-64.so.2"));
    EXPECT_EQ(check(t, "x86-64", &libs).problems, Problems{});
}

TEST(ElfCheck, NoBaseCountsOnlyTheExtension) {
    tree::Tree t;
    CraftSpec s;
    s.needed = {"libpodman.so.1"};
    add_inline(t, "usr/bin/tool", craft_elf(s).bytes);
    EXPECT_EQ(check(t, "x86-64", nullptr).problems,
              Problems{"usr/bin/tool: needs libpodman.so.1, not found in the extension (no base "
                       "system given)"});
    add_inline(t, "usr/lib/libpodman.so.1", x86_64_lib("libpodman.so.1"));
    EXPECT_EQ(check(t, "x86-64", nullptr).problems, Problems{});
}

TEST(ElfCheck, StaticBinaryAndStreamsPass) {
    test::TempDir dir;
    test::write_text(dir / "hello.c", "int main(void) { return 0; }\n");
    int status = 0;
    test::run("gcc -static -o " + (dir / "hello") + " " + (dir / "hello.c") + " 2>&1", &status);
    ASSERT_EQ(status, 0);
    tree::Tree t;
    add_disk(t, "usr/bin/hello", dir / "hello");
    tree::Node streamed;
    streamed.type = tree::NodeType::File;
    streamed.content.kind = tree::Content::Kind::Stream;
    streamed.content.size = 10;
    t.add("usr/bin/streamed", std::move(streamed));
    ElfReport r = check(t, "x86-64", nullptr);
    EXPECT_EQ(r.problems, Problems{});
    EXPECT_EQ(r.elf_files, 1u);
    EXPECT_EQ(r.skipped, 1u);
}

TEST(ElfCheck, RunpathOriginAndSymlinksInTheTree) {
    tree::Tree t;
    CraftSpec s;
    s.type = ET_EXEC; // no interpreter needed for the test, but a program, not a library
    s.needed = {"libprivate.so.1"};
    s.runpath = "$ORIGIN/../lib/podman";
    add_inline(t, "usr/bin/podman", craft_elf(s).bytes);
    add_inline(t, "usr/lib/podman/libprivate.so.1.2.3", x86_64_lib("libprivate.so.1"));
    add_link(t, "usr/lib/podman/libprivate.so.1", "libprivate.so.1.2.3");
    EXPECT_EQ(check(t, "x86-64", nullptr).problems, Problems{});
    // The same binary elsewhere: $ORIGIN no longer leads to the library.
    add_inline(t, "usr/libexec/podman/podman", craft_elf(s).bytes);
    EXPECT_EQ(check(t, "x86-64", nullptr).problems,
              Problems{"usr/libexec/podman/podman: needs libprivate.so.1, not found in the "
                       "extension (no base system given)"});
    // ${ORIGIN} and DT_RPATH work the same way; a dangling link does not count.
    tree::Tree t2;
    s.runpath.clear();
    s.rpath = "${ORIGIN}/../lib/podman";
    add_inline(t2, "usr/bin/podman", craft_elf(s).bytes);
    add_link(t2, "usr/lib/podman/libprivate.so.1", "libprivate.so.1.2.3");
    EXPECT_EQ(check(t2, "x86-64", nullptr).problems.size(), 1u);
    add_inline(t2, "usr/lib/podman/libprivate.so.1.2.3", x86_64_lib("libprivate.so.1"));
    EXPECT_EQ(check(t2, "x86-64", nullptr).problems, Problems{});
}

TEST(ElfCheck, RunpathTokensLibAndPlatform) {
    tree::Tree t;
    CraftSpec s;
    s.type = ET_EXEC;
    s.needed = {"libq.so.1", "libp.so.1"};
    s.runpath = "/opt/q/$LIB:/opt/q/${PLATFORM}:/opt/q/$ORIGINAL:relative/dir";
    add_inline(t, "opt/q/bin/q", craft_elf(s).bytes);
    add_inline(t, "opt/q/lib64/libq.so.1", x86_64_lib("libq.so.1"));
    add_inline(t, "opt/q/x86_64/libp.so.1", x86_64_lib("libp.so.1"));
    // $PLATFORM is not known here, so that entry is left out, like the relative one.
    EXPECT_EQ(check(t, "x86-64", nullptr).problems,
              Problems{"opt/q/bin/q: needs libp.so.1, not found in the extension (no base system "
                       "given)"});
}

TEST(ElfCheck, PluginMayUseItsProgramsPrivateLibrary) {
    // Like libjava.so needing libjvm.so from lib/server/: the program loads it first.
    tree::Tree t;
    add_inline(t, "usr/lib/jvm/lib/server/libjvm.so", x86_64_lib("libjvm.so"));
    add_inline(t, "usr/lib/jvm/lib/libjava.so", x86_64_lib("libjava.so", {"libjvm.so"}));
    EXPECT_EQ(check(t, "x86-64", nullptr).problems, Problems{});
    // An executable gets no such allowance, nor does a library of another machine.
    CraftSpec exe;
    exe.needed = {"libjvm.so"};
    exe.interpreter = "/usr/lib/jvm/lib/server/libjvm.so"; // any x86-64 file will do here
    add_inline(t, "usr/lib/jvm/bin/java", craft_elf(exe).bytes);
    CraftSpec arm = exe;
    arm.interpreter.clear();
    arm.machine = EM_AARCH64;
    add_inline(t, "usr/lib/jvm/lib/libarm.so", craft_elf(arm).bytes);
    EXPECT_EQ(check(t, "_any", nullptr).problems,
              (Problems{"usr/lib/jvm/bin/java: needs libjvm.so, not found in the extension (no "
                        "base system given)",
                        "usr/lib/jvm/lib/libarm.so: needs libjvm.so, not found in the extension "
                        "(no base system given)"}));
}

TEST(ElfCheck, IncompatibleCandidateIsSkippedAndNamed) {
    FakeBase base({"libc.so.6"});
    CraftSpec i386;
    i386.machine = EM_386;
    i386.is_64 = false;
    i386.soname = "libyajl.so.2";
    test::write_text(base.dir / "usr/lib/libyajl.so.2", craft_elf(i386).bytes);
    BaseLibraries libs = base.libraries();
    tree::Tree t;
    CraftSpec s;
    s.interpreter = k_ld;
    s.needed = {"libyajl.so.2", "libc.so.6"};
    add_inline(t, "usr/bin/crun", craft_elf(s).bytes);
    EXPECT_EQ(check(t, "x86-64", &libs).problems,
              Problems{"usr/bin/crun: needs libyajl.so.2, found neither in the extension nor in "
                       "the base system (/usr/lib/libyajl.so.2 is Intel 80386, 32-bit)"});
}

TEST(ElfCheck, LdSoConfDirectoriesComeFromTheBaseOnly) {
    FakeBase base({"libc.so.6"});
    test::write_text(base.dir / "etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
    test::write_text(base.dir / "etc/ld.so.conf.d/local.conf",
                     "# comment\n/usr/local/lib/\nhwcap 0 nosegneg\n");
    test::write_text(base.dir / "etc/ld.so.conf.d/skip.txt", "/never\n");
    test::write_text(base.dir / "usr/local/lib/libbase.so.1", x86_64_lib("libbase.so.1"));
    BaseLibraries libs = base.libraries();
    EXPECT_EQ(libs.conf_dirs(), std::vector<std::string>{"/usr/local/lib"});
    tree::Tree t;
    CraftSpec s;
    s.interpreter = k_ld;
    s.needed = {"libbase.so.1", "libext.so.1"};
    add_inline(t, "usr/bin/tool", craft_elf(s).bytes);
    // The host's ld.so.cache knows nothing of files the extension adds there.
    add_inline(t, "usr/local/lib/libext.so.1", x86_64_lib("libext.so.1"));
    EXPECT_EQ(check(t, "x86-64", &libs).problems,
              Problems{"usr/bin/tool: needs libext.so.1, found neither in the extension nor in "
                       "the base system"});
}

TEST(BaseLibraries, RootSymlinksStayInsideTheRoot) {
    FakeBase base({});
    // An absolute link is resolved inside the root, not on the build host.
    fs::create_symlink("/etc/passwd", base.dir / "usr/lib/passwd-link");
    fs::create_symlink("../../../../../../etc/passwd", base.dir / "usr/lib/climb-link");
    fs::create_symlink("loop-b", base.dir / "usr/lib/loop-a");
    fs::create_symlink("loop-a", base.dir / "usr/lib/loop-b");
    BaseLibraries libs = base.libraries();
    EXPECT_TRUE(libs.has(k_ld));
    EXPECT_TRUE(libs.has("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"));
    EXPECT_FALSE(libs.has("/usr/lib/passwd-link"));
    EXPECT_FALSE(libs.has("/usr/lib/climb-link"));
    EXPECT_FALSE(libs.has("/usr/lib/loop-a"));
    EXPECT_FALSE(libs.has("/usr/lib")); // a directory
    test::write_text(base.dir / "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    EXPECT_TRUE(libs.has("/usr/lib/passwd-link"));
    EXPECT_TRUE(libs.has("/usr/lib/climb-link"));
    EXPECT_THROW(BaseLibraries::from_root(base.dir / "etc/passwd"), Error);
}

TEST(BaseLibraries, ListingIsMergedUsr) {
    test::TempDir dir;
    test::write_text(dir / "list",
                     "# find / -name '*.so*'\n/usr/lib/x86_64-linux-gnu/libc.so.6\n"
                     "/lib64/ld-linux-x86-64.so.2\n\n./lib/x86_64-linux-gnu/libm.so.6\n");
    BaseLibraries libs = BaseLibraries::from_listing(dir / "list");
    EXPECT_TRUE(libs.has("/lib/x86_64-linux-gnu/libc.so.6"));
    EXPECT_TRUE(libs.has("/usr/lib64/ld-linux-x86-64.so.2"));
    EXPECT_TRUE(libs.has(k_ld));
    EXPECT_TRUE(libs.has("/usr/lib/x86_64-linux-gnu/libm.so.6"));
    EXPECT_FALSE(libs.has("/usr/lib/x86_64-linux-gnu/libselinux.so.1"));
    tree::Tree t;
    add_disk(t, "usr/bin/ls", "/bin/ls");
    EXPECT_EQ(check(t, "x86-64", &libs).problems,
              Problems{"usr/bin/ls: needs libselinux.so.1, found neither in the extension nor in "
                       "the base system"});
    // 32-bit x86 code on a 64-bit Debian finds its libraries in /usr/lib32.
    test::write_text(dir / "list32", "/usr/lib32/libc.so.6\n/usr/lib/ld-linux.so.2\n");
    BaseLibraries libs32 = BaseLibraries::from_listing(dir / "list32");
    CraftSpec i386;
    i386.machine = EM_386;
    i386.is_64 = false;
    i386.interpreter = "/lib/ld-linux.so.2";
    i386.needed = {"libc.so.6"};
    tree::Tree t32;
    add_inline(t32, "usr/bin/old", craft_elf(i386).bytes);
    EXPECT_EQ(check(t32, "x86", &libs32).problems, Problems{});
    EXPECT_EQ(check(t, "x86-64", &libs32).problems.size(), 3u);
    test::write_text(dir / "empty", "# nothing\n");
    EXPECT_THROW(BaseLibraries::from_listing(dir / "empty"), Error);
}

TEST(ElfCheck, BadFilesAreProblemsAndTheRestIsChecked) {
    tree::Tree t;
    std::string ls = read_file("/bin/ls");
    add_inline(t, "usr/bin/a-truncated", ls.substr(0, 200));
    std::string hostile = ls;
    test::patch<uint64_t>(hostile, offsetof(Elf64_Ehdr, e_phoff), 1ull << 60);
    add_inline(t, "usr/bin/b-hostile", hostile);
    CraftSpec s;
    s.machine = EM_AARCH64;
    add_inline(t, "usr/bin/c-arm", craft_elf(s).bytes);
    ElfReport r = check(t, "x86-64", nullptr);
    ASSERT_EQ(r.problems.size(), 3u);
    EXPECT_EQ(r.problems[0].rfind("usr/bin/a-truncated: truncated ELF file: ", 0), 0u)
        << r.problems[0];
    EXPECT_EQ(
        r.problems[1].rfind("usr/bin/b-hostile: truncated ELF file: program headers at offset "
                            "1152921504606846976",
                            0),
        0u)
        << r.problems[1];
    EXPECT_EQ(r.problems[2], "usr/bin/c-arm: machine AArch64 does not match ARCHITECTURE=x86-64");
}

TEST(ElfCheck, UnknownArchitecture) {
    tree::Tree t;
    try {
        check(t, "x86_64", nullptr);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "ARCHITECTURE=x86_64: unknown architecture (did you mean \"x86-64\"?)");
    }
}

} // namespace
} // namespace sysext::validate

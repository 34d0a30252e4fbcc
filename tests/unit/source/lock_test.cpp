#include "sysext/source/lock.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include "source/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sysext::source {

namespace {

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

LockEntry deb(const std::string& name, const std::string& version) {
    return {"deb",
            name,
            version,
            "amd64",
            "http://127.0.0.1:8000/debian/pool/main/" + name + ".deb",
            "pool/main/" + name + ".deb",
            std::string(64, 'a'),
            1234};
}

} // namespace

TEST(LockFile, WritesSortedStableJsonAndReadsItBack) {
    LockFile lock;
    lock.add(deb("podman", "5.4.2+ds1-1"));
    lock.add(deb("crun", "1.21-1"));
    lock.add({"url", "policy", "", "", "file:///tmp/policy.json", "", std::string(64, 'b'), 7});
    lock.add(deb("crun", "1.21-1")); // the same input twice is one entry
    ASSERT_EQ(lock.entries().size(), 3u);
    EXPECT_EQ(lock.entries()[0].name, "crun");
    EXPECT_EQ(lock.entries()[2].kind, "url");

    const std::string json = lock.to_json();
    EXPECT_EQ(
        json.rfind(
            "{\n  \"sysext-build-lock\": 1,\n  \"inputs\": [\n    {\n      \"kind\": \"deb\",\n"
            "      \"name\": \"crun\",\n      \"version\": \"1.21-1\",\n",
            0),
        0u);
    EXPECT_NE(json.find("\"filename\": \"pool/main/crun.deb\""), std::string::npos);
    EXPECT_EQ(json.find("\"version\": \"\""), std::string::npos); // empty fields are left out

    test::TempDir dir;
    lock.write(dir / "out.lock");
    auto back = LockFile::read(dir / "out.lock");
    EXPECT_EQ(back.entries(), lock.entries());
    EXPECT_EQ(back.to_json(), json);
}

TEST(LockFile, RefusesConflictsAndBadInput) {
    LockFile lock;
    lock.add(deb("crun", "1.21-1"));
    EXPECT_EQ(error_of([&] { lock.add(deb("crun", "1.20-1")); }),
              "lock: two different inputs named \"deb crun\": 1.21-1 and 1.20-1");

    const std::string hash(64, 'a');
    EXPECT_EQ(error_of([] { LockFile::parse("{\n  \"inputs\": [\n  }\n", "l.lock"); }),
              "l.lock:3: not valid JSON");
    EXPECT_EQ(error_of([] { LockFile::parse("{\"inputs\": []}", "l.lock"); }),
              "l.lock: not a sysext-build lock file (no \"sysext-build-lock\" and \"inputs\")");
    EXPECT_EQ(error_of([&] {
                  LockFile::parse(
                      "{\"sysext-build-lock\": 1, \"inputs\": [{\"kind\": \"deb\", \"name\": \"a\","
                      "\"url\": \"u\", \"sha265\": \"" +
                          hash + "\", \"size\": 1}]}",
                      "l.lock");
              }),
              "l.lock: inputs[0]: unknown key \"sha265\" (did you mean \"sha256\"?)");
    EXPECT_EQ(error_of([&] {
                  LockFile::parse(
                      "{\"sysext-build-lock\": 1, \"inputs\": [{\"kind\": \"deb\", \"name\": \"a\","
                      "\"url\": \"u\", \"sha256\": \"" +
                          hash + "\"}]}",
                      "l.lock");
              }),
              "l.lock: inputs[0]: \"size\" must be a number of bytes");
    EXPECT_EQ(
        error_of([&] { LockFile::parse("{\"sysext-build-lock\": 2, \"inputs\": []}", "l.lock"); }),
        "l.lock: lock format 2 is not supported (expected 1)");
}

TEST(LockFile, FilenamesStayInsideTheMirror) {
    auto doc = [](const std::string& filename) {
        return "{\"sysext-build-lock\": 1, \"inputs\": [{\"kind\": \"deb\", \"name\": \"a\", "
               "\"url\": \"u\", "
               "\"filename\": \"" +
               filename + "\", \"sha256\": \"" + std::string(64, 'a') + "\", \"size\": 1}]}";
    };
    EXPECT_EQ(LockFile::parse(doc("pool/main/a/a_1..2_all.deb"), "l").entries().size(), 1u);
    for (const char* bad :
         {"../x.deb", "pool/../../x.deb", "/etc/passwd", "pool//x.deb", "http://127.0.0.1/x"})
        EXPECT_EQ(error_of([&] { LockFile::parse(doc(bad), "l"); }),
                  std::string("l: inputs[0]: bad filename \"") + bad + "\"");
}

TEST(LockFile, ReplaysAgainstAnotherMirror) {
    auto e = deb("crun", "1.21-1");
    EXPECT_EQ(e.source_url(), "http://127.0.0.1:8000/debian/pool/main/crun.deb");
    EXPECT_EQ(e.source_url("http://127.0.0.1:9000/mirror/"),
              "http://127.0.0.1:9000/mirror/pool/main/crun.deb");
}

} // namespace sysext::source

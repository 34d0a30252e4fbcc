#include "sysext/profile/assemble.hpp"
#include "sysext/profile/profile.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/json_lines.hpp"

#include <gtest/gtest.h>

namespace sysext::profile {

namespace {
std::vector<std::string> problems_of(const std::string& text) {
    try {
        parse(text, "p.json");
    } catch (const MultiError& e) {
        return e.problems();
    } catch (const Error& e) {
        return {e.what()};
    }
    return {};
}

const char* k_minimal = R"({
  "name": "tool",
  "targets": {
    "any": {
      "release": {"ID": "_any"},
      "sources": [{"type": "directory", "path": "${root}"}]
    }
  }
})";
} // namespace

TEST(JsonLines, PointersToLines) {
    JsonLines l("{\n  \"a\": 1,\n  \"b\": [\n    {\"c\": 2},\n    3\n  ]\n}\n");
    EXPECT_EQ(l.line("/a"), 2);
    EXPECT_EQ(l.line("/b"), 3);
    EXPECT_EQ(l.line("/b/0"), 4);
    EXPECT_EQ(l.line("/b/0/c"), 4);
    EXPECT_EQ(l.line("/b/1"), 5);
    EXPECT_EQ(l.line("/b/0/missing"), 4);
}

TEST(Profile, MinimalParses) {
    Profile p = parse(k_minimal, "p.json");
    EXPECT_EQ(p.name, "tool");
    EXPECT_EQ(p.default_target, "any");
    ASSERT_EQ(p.targets.at("any").sources.size(), 1u);
    EXPECT_EQ(p.targets.at("any").sources[0].origin.str(), "p.json:6");
}

TEST(Profile, UnknownKeysGiveLineAndSuggestion) {
    auto p = problems_of(R"({
  "name": "tool",
  "compnents": [],
  "targets": {
    "any": {
      "releas": {"ID": "_any"},
      "sources": [{"type": "directry", "path": "x"}]
    }
  }
})");
    ASSERT_EQ(p.size(), 3u) << ::testing::PrintToString(p);
    EXPECT_EQ(p[0], "p.json:3: unknown key \"compnents\" (did you mean \"components\"?)");
    EXPECT_EQ(p[1], "p.json:6: unknown key \"releas\" (did you mean \"release\"?)");
    EXPECT_EQ(p[2], "p.json:7: unknown source type \"directry\" (did you mean \"directory\"?)");
}

TEST(Profile, TypeErrorsAndSyntaxErrors) {
    auto p = problems_of(R"({
  "name": 5,
  "targets": {"any": {"sources": [{"type": "url", "url": "http://127.0.0.1/x"}]}},
  "files": [{"path": "/abs", "mode": "999", "lines": ["x"]}]
})");
    ASSERT_EQ(p.size(), 4u) << ::testing::PrintToString(p);
    EXPECT_EQ(p[0], "p.json:2: \"name\" must be a string");
    EXPECT_EQ(p[1], "p.json:3: a url source needs \"url\" and its \"sha256\" (64 hex digits)");
    EXPECT_EQ(p[2], "p.json:4: mode \"999\" is not octal like \"0755\"");
    EXPECT_EQ(p[3], "p.json:4: path \"/abs\" must be relative to the extension root (e.g. \"usr/bin/x\")");

    auto s = problems_of("{\n  \"name\": \"x\",\n  \"targets\": {\n}\n,,}");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].rfind("p.json:5: syntax error", 0), 0u) << s[0];
}

TEST(Profile, ExpandVariables) {
    Origin o{"p.json", 9};
    Vars v{{"arch", "arm64"}, {"version", "5.4.2"}};
    EXPECT_EQ(expand("podman-${version}-${arch}.raw", v, o), "podman-5.4.2-arm64.raw");
    EXPECT_EQ(expand("ExecStart=/bin/echo $${HOME}", v, o), "ExecStart=/bin/echo ${HOME}");
    try {
        expand("${archh}", v, o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "p.json:9: unknown variable ${archh} (did you mean ${arch}?); set it with "
                               "--set archh=VALUE");
    }
}

TEST(Assemble, MoveExcludeFilesAndEtcDefaults) {
    Profile p = parse(R"({
  "name": "tool",
  "targets": {"any": {"sources": [{"type": "directory", "path": "x"}]}},
  "move": [{"from": "etc/tool", "to": "usr/share/tool/etc/tool", "etc_defaults": true}],
  "exclude": ["etc/**", "usr/share/doc/**"],
  "files": [{"path": "usr/share/tool/etc/tool/extra.conf", "lines": ["a=1"]},
            {"path": "usr/lib/systemd/system/tool.service", "mode": "0644", "content": "[Unit]\n"}],
  "symlinks": [{"path": "usr/bin/t", "target": "tool"}],
  "components": [{"name": "tool", "paths": ["usr/bin/tool", "usr/lib/missing"]}]
})", "p.json");
    tree::Tree t;
    tree::Node f;
    f.type = tree::NodeType::File;
    t.add("etc/tool/main.conf", tree::Node{f.name, f.type});
    t.add("etc/other.conf", tree::Node{f.name, f.type});
    t.add("usr/share/doc/tool/README", tree::Node{f.name, f.type});
    t.add("usr/bin/tool", tree::Node{f.name, f.type});
    apply_layout(p, t, {}, 42);
    EXPECT_NE(t.find("usr/share/tool/etc/tool/main.conf"), nullptr);
    EXPECT_EQ(t.find("etc"), nullptr);
    EXPECT_EQ(t.find("usr/share/doc"), nullptr);
    EXPECT_EQ(t.find("usr/bin/t")->link_target, "tool");
    const tree::Node* rules = t.find("usr/lib/tmpfiles.d/tool-etc-defaults.conf");
    ASSERT_NE(rules, nullptr);
    const std::string& text = *rules->content.bytes;
    EXPECT_NE(text.find("C /etc/tool/extra.conf - - - - /usr/share/tool/etc/tool/extra.conf\n"), std::string::npos) << text;
    EXPECT_NE(text.find("C /etc/tool/main.conf - - - - /usr/share/tool/etc/tool/main.conf\n"), std::string::npos) << text;
    EXPECT_EQ(rules->mtime, 42u);
    auto missing = check_components(p, t, {});
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_EQ(missing[0], "p.json:9: component \"tool\": nothing at \"usr/lib/missing\" in the extension");
}

// A package's file names must not reach the root-run tmpfiles.d file as lines,
// fields or specifiers: such names are refused, all of them named, and no rules
// file is written.
TEST(Assemble, EtcDefaultsRefuseNamesThatWouldInjectTmpfilesLines) {
    Profile p = parse(R"({
  "name": "tool",
  "targets": {"any": {"sources": [{"type": "directory", "path": "x"}]}},
  "move": [{"from": "etc/tool", "to": "usr/share/tool/etc/tool", "etc_defaults": true}]
})", "p.json");
    const std::vector<std::string> hostile = {
        "a\nZ %h 0777 - - -", "b c", "d%S", "e\"f", "g\\x0a", "h\tR"};
    tree::Tree t;
    auto file = [] {
        tree::Node f;
        f.type = tree::NodeType::File;
        f.origin = "evil.deb";
        return f;
    };
    t.add("etc/tool/ok.conf", file());
    for (const auto& name : hostile)
        t.add("etc/tool/" + name, file());
    try {
        apply_layout(p, t, {}, 42);
        FAIL() << "hostile names accepted";
    } catch (const MultiError& e) {
        ASSERT_EQ(e.problems().size(), hostile.size());
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_EQ(e.problems()[0],
                  "\"usr/share/tool/etc/tool/a\\x0aZ %h 0777 - - -\" (from evil.deb): its name "
                  "cannot stand in a tmpfiles.d line (only letters, digits and /._+-,@=:~ can); "
                  "exclude it from the profile");
    }
    EXPECT_EQ(t.find("usr/lib/tmpfiles.d/tool-etc-defaults.conf"), nullptr);
}

} // namespace sysext::profile

namespace sysext::profile {

TEST(Profile, ReleaseVersionsAndTargets) {
    Profile p = parse(R"({
  "name": "tool",
  "version_from": "tool",
  "release_versions": ["5.x", "latest"],
  "release_targets": ["any"],
  "targets": {"any": {"release": {"ID": "_any"}, "sources": [{"type": "debian", "packages": ["tool"]}]}}
})",
                      "p.json");
    EXPECT_EQ(p.release_versions, (std::vector<std::string>{"5.x", "latest"}));
    EXPECT_EQ(p.release_targets, std::vector<std::string>{"any"});
    auto problems = problems_of(R"({
  "name": "tool",
  "release_versions": ["5.x"],
  "release_targets": ["nowhere"],
  "targets": {"any": {"release": {"ID": "_any"}, "sources": [{"type": "directory", "path": "x"}]}}
})");
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0], "p.json:3: \"release_versions\" needs \"version_from\" (the package they select)");
    EXPECT_EQ(problems[1], "p.json:4: release target \"nowhere\" is not a target");
}

} // namespace sysext::profile

#include "sysext/release/release.hpp"
#include "sysext/validate/validate.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace sysext::validate {

namespace {
tree::Node node(tree::NodeType type, const std::string& text = "") {
    tree::Node n;
    n.type = type;
    if (!text.empty()) {
        auto bytes = std::make_shared<std::string>(text);
        n.content = {tree::Content::Kind::Inline, "", bytes, nullptr, 0, bytes->size()};
    }
    return n;
}

tree::Tree good_tree() {
    tree::Tree t;
    t.add("usr/bin/tool", node(tree::NodeType::File, "#!/bin/sh\n"));
    t.add(release::release_path("tool"), node(tree::NodeType::File, "ID=_any\n"));
    return t;
}
} // namespace

TEST(Validate, GoodTreePasses) {
    auto t = good_tree();
    EXPECT_TRUE(check_tree(t, {"tool"}).empty());
}

TEST(Validate, ListsEveryProblem) {
    auto t = good_tree();
    t.add("etc/passwd", node(tree::NodeType::File, "x"));
    t.add("usr/lib/os-release", node(tree::NodeType::File, "ID=debian\n"));
    tree::Node dev = node(tree::NodeType::CharDevice);
    t.add("usr/null", std::move(dev));
    t.add("usr/" + std::string(256, 'n'), node(tree::NodeType::File, "x"));
    tree::Node esc = node(tree::NodeType::Symlink);
    esc.link_target = "../../../etc/shadow";
    t.add("usr/bin/esc", std::move(esc));
    tree::Node abs = node(tree::NodeType::Symlink);
    abs.link_target = "/usr/bin/tool";
    t.add("usr/bin/abs", std::move(abs));
    t.add(release::release_path("other"), node(tree::NodeType::File, "ID=_any\n"));

    auto p = check_tree(t, {"tool"});
    ASSERT_EQ(p.size(), 6u) << ::testing::PrintToString(p);
    EXPECT_EQ(p[0], "etc: only usr/ and opt/ are merged by systemd-sysext; move it below usr/ or leave it out");
    EXPECT_EQ(p[1], "usr/lib/os-release: an extension must not carry it (systemd-sysext refuses the image)");
    EXPECT_EQ(p[2], "usr/bin/esc: symbolic link to \"../../../etc/shadow\" leads out of the tree");
    EXPECT_EQ(p[3], "usr/" + std::string(256, 'n') + ": name is 256 bytes long; squashfs holds at most 255");
    EXPECT_EQ(p[4], "usr/null: character device: device nodes cannot be in an extension");
    EXPECT_EQ(p[5], "usr/lib/extension-release.d/extension-release.other: does not match the image name "
                    "\"tool\" (systemd-sysext reads only usr/lib/extension-release.d/extension-release.tool)");
}

// A symlink target longer than PATH_MAX allows is packed by nothing that
// reads it back (our inspect refused a 5,000-byte target that pack took).
TEST(Validate, SymlinkTargetsAreBounded) {
    auto t = good_tree();
    tree::Node longest = node(tree::NodeType::Symlink);
    longest.link_target = std::string(4095, 'x');
    t.add("usr/bin/longest", std::move(longest));
    EXPECT_TRUE(check_tree(t, {"tool"}).empty());
    tree::Node too_long = node(tree::NodeType::Symlink);
    too_long.link_target = std::string(5000, 'x');
    t.add("usr/bin/too-long", std::move(too_long));
    auto p = check_tree(t, {"tool"});
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0], "usr/bin/too-long: symbolic link target of 5000 bytes; the limit is 4095");
}

TEST(Validate, MissingOrBadReleaseFile) {
    tree::Tree t;
    t.add("usr/bin/tool", node(tree::NodeType::File, "x"));
    auto p = check_tree(t, {"tool"});
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0], "usr/lib/extension-release.d/extension-release.tool: missing (give --os-id, or put "
                    "the file in the source)");

    t.add(release::release_path("tool"), node(tree::NodeType::File, "ID=debian\nARCHITECTURE=amd64\n"));
    p = check_tree(t, {"tool"});
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0], "usr/lib/extension-release.d/extension-release.tool: unknown architecture \"amd64\" "
                    "(did you mean \"x86-64\"?)");
}

TEST(Validate, BadExtensionName) {
    auto t = good_tree();
    auto p = check_tree(t, {"../x"});
    ASSERT_FALSE(p.empty());
    EXPECT_EQ(p[0], "extension name \"../x\" is not valid (letters, digits, \"._+-\", not starting with a dot)");
}

// Names from a hostile archive may hold newlines: each problem stays one line.
TEST(Validate, ControlCharactersInNamesAreEscaped) {
    auto t = good_tree();
    t.add("usr/a\nb", node(tree::NodeType::CharDevice));
    t.add("x\ty", node(tree::NodeType::File, "x"));
    std::vector<std::string> problems = check_tree(t, {"tool"});
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].substr(0, problems[0].find(':')), "\"x\\x09y\"");
    EXPECT_EQ(problems[1].substr(0, problems[1].find(':')), "\"usr/a\\x0ab\"");
    for (const auto& p : problems)
        EXPECT_EQ(p.find_first_of("\n\t"), std::string::npos) << p;
}

} // namespace sysext::validate

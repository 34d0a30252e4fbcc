#include "sysext/tree/tree.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

namespace sysext::tree {

namespace {
Node file(const std::string& origin) {
    Node n;
    n.type = NodeType::File;
    n.origin = origin;
    return n;
}
} // namespace

TEST(Tree, AddCreatesParentsAndKeepsBytewiseOrder) {
    Tree t;
    t.add("usr/bin/b", file("b"));
    t.add("usr/bin/B", file("B"));
    t.add("usr/bin/a", file("a"));
    t.add("usr/bin/\xc3\xa9", file("e-acute"));
    const Node* bin = t.find("usr/bin");
    ASSERT_NE(bin, nullptr);
    EXPECT_TRUE(bin->is_dir());
    EXPECT_EQ(bin->mode, 0755u);
    std::string order;
    for (const auto& [name, child] : bin->children)
        order += name + ",";
    // Bytewise: uppercase before lowercase, UTF-8 after ASCII.
    EXPECT_EQ(order, "B,a,b,\xc3\xa9,");
    EXPECT_EQ(t.find("usr/bin/a")->path(), "usr/bin/a");
}

TEST(Tree, DuplicateEntryIsAnErrorNamingBothOrigins) {
    Tree t;
    t.add("usr/x", file("one.tar: usr/x"));
    try {
        t.add("usr/x", file("two.tar: usr/x"));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "two.tar: usr/x: \"usr/x\" is already in the tree (from one.tar: usr/x)");
    }
    EXPECT_NO_THROW(t.add("usr/x", file("three"), /*replace=*/true));
    EXPECT_EQ(t.find("usr/x")->origin, "three");
}

TEST(Tree, FileCannotBeAParent) {
    Tree t;
    t.add("usr", file("f"));
    EXPECT_THROW(t.add("usr/bin/x", file("g")), Error);
    // The message names where the file in the way came from (an archive entry).
    t.add("opt", file("input.tar: opt"));
    try {
        t.ensure_dir("opt/lib");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "\"opt\" is a regular file (from input.tar: opt), not a directory, "
                               "but \"opt/lib\" is below it");
    }
}

TEST(Tree, SplitPathRefusesDotDot) {
    EXPECT_EQ(split_path("./usr//bin/", "o"), (std::vector<std::string>{"usr", "bin"}));
    try {
        split_path("usr/../../etc/passwd", "input.tar");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "input.tar: \"usr/../../etc/passwd\": path leaves the tree");
    }
}

TEST(Tree, FinalizeCountsLinks) {
    Tree t;
    Node& target = t.add("usr/a", file("a"));
    Node link = file("b");
    link.hardlink = &target;
    t.add("usr/b", std::move(link));
    t.ensure_dir("usr/sub1");
    t.ensure_dir("usr/sub2");
    t.finalize();
    EXPECT_EQ(target.link_count, 2u);
    EXPECT_EQ(t.find("usr")->link_count, 4u); // . + parent entry + two subdirectories
    EXPECT_EQ(t.root().link_count, 3u);
    EXPECT_EQ(t.count(), 6u);
}

TEST(Tree, RemoveDropsSubtree) {
    Tree t;
    t.add("usr/share/doc/x", file("x"));
    EXPECT_TRUE(t.remove("usr/share/doc"));
    EXPECT_EQ(t.find("usr/share/doc/x"), nullptr);
    EXPECT_FALSE(t.remove("usr/share/doc"));
}

} // namespace sysext::tree

namespace sysext::tree {

TEST(Glob, ComponentsAndDoubleStar) {
    EXPECT_TRUE(glob_match("usr/bin/podman", "usr/bin/podman"));
    EXPECT_TRUE(glob_match("usr/lib/systemd/system/podman*", "usr/lib/systemd/system/podman.socket"));
    EXPECT_FALSE(glob_match("usr/lib/*", "usr/lib/a/b"));
    EXPECT_TRUE(glob_match("usr/lib/**", "usr/lib/a/b"));
    EXPECT_TRUE(glob_match("usr/**/*.so*", "usr/lib/x86_64-linux-gnu/libyajl.so.2"));
    EXPECT_TRUE(glob_match("usr/share/doc/**", "usr/share/doc"));
    EXPECT_TRUE(glob_match("usr/b?n/*", "usr/bin/x"));
    EXPECT_FALSE(glob_match("usr/bin/x", "usr/bin/xy"));
}

TEST(Tree, DetachAndAttachMergeDirectories) {
    Tree t;
    t.add("etc/containers/policy.json", file("p"));
    t.add("etc/containers/registries.conf", file("r"));
    t.add("usr/share/podman/etc/containers/other", file("o"));
    auto moved = t.detach("etc/containers");
    ASSERT_NE(moved, nullptr);
    t.attach("usr/share/podman/etc/containers", std::move(moved), "move");
    EXPECT_NE(t.find("usr/share/podman/etc/containers/policy.json"), nullptr);
    EXPECT_NE(t.find("usr/share/podman/etc/containers/other"), nullptr);
    EXPECT_EQ(t.find("etc/containers"), nullptr);
    EXPECT_EQ(t.find("usr/share/podman/etc/containers/policy.json")->path(),
              "usr/share/podman/etc/containers/policy.json");
    auto again = t.detach("usr/share/podman/etc/containers/other");
    t.add("usr/x", file("x"));
    EXPECT_THROW(t.attach("usr/x", std::move(again), "move"), Error);
}

} // namespace sysext::tree

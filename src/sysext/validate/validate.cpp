#include "sysext/validate/validate.hpp"

#include "sysext/release/release.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <string_view>

namespace sysext::validate {

namespace {

// A path as the problem lines show it: as it is, unless a control character
// (a newline in a hostile archive's entry name) would split or garble the line.
std::string shown(const std::string& path) {
    if (path.empty())
        return "/";
    for (unsigned char c : path)
        if (c < 0x20 || c == 0x7f)
            return quote(path);
    return path;
}

std::string shown(const tree::Node& n) {
    return shown(n.path());
}

// A relative symlink whose ".." climb above the tree's root.
bool leaves_tree(const tree::Node& link) {
    if (link.link_target.empty() || link.link_target[0] == '/')
        return false; // absolute targets resolve inside the host's root
    long depth = 0;
    for (const tree::Node* p = link.parent; p && p->parent; p = p->parent)
        ++depth;
    for (const auto& part : split(link.link_target, '/')) {
        if (part == "..") {
            if (--depth < 0)
                return true;
        } else if (!part.empty() && part != ".") {
            ++depth;
        }
    }
    return false;
}

void check_release(const tree::Tree& tree, const Expectations& expect,
                   std::vector<std::string>& problems) {
    const std::string dir = "usr/lib/extension-release.d";
    const std::string want = release::release_path(expect.name);
    if (const tree::Node* d = tree.find(dir); d && d->is_dir()) {
        for (const auto& [name, child] : d->children) {
            std::string path = dir + "/" + name;
            if (path != want)
                problems.push_back(path + ": does not match the image name " + quote(expect.name) +
                                   " (systemd-sysext reads only " + want + ")");
        }
    }
    const tree::Node* rel = tree.find(want);
    if (rel == nullptr) {
        problems.push_back(want + ": missing (give --os-id, or put the file in the source)");
        return;
    }
    if (rel->type != tree::NodeType::File) {
        problems.push_back(want + ": is a " + tree::type_name(rel->type) + ", not a regular file");
        return;
    }
    if (rel->content.size > (1 << 20)) {
        problems.push_back(want + ": larger than 1 MiB");
        return;
    }
    if (rel->inode().content.kind != tree::Content::Kind::Inline &&
        rel->inode().content.kind != tree::Content::Kind::Empty) {
        problems.push_back(want + ": not read yet (internal: materialize it before validating)");
        return;
    }
    std::string text = rel->inode().content.bytes ? *rel->inode().content.bytes : "";
    try {
        auto kv = release::parse(text, want);
        release::Fields f;
        f.os_id = kv["ID"];
        f.architecture = kv["ARCHITECTURE"];
        f.scope = kv["SYSEXT_SCOPE"];
        for (auto& p : release::check(f, want))
            problems.push_back(std::move(p));
    } catch (const Error& e) {
        problems.push_back(e.what());
    }
}

} // namespace

std::vector<std::string> check_tree(const tree::Tree& tree, const Expectations& expect,
                                    const std::string& profile) {
    std::vector<std::string> problems;
    if (!release::valid_name(expect.name))
        problems.push_back("extension name " + quote(expect.name) +
                           " is not valid (letters, digits, \"._+-\", not starting with a dot)");
    for (const auto& [name, child] : tree.root().children) {
        if (name != "usr" && name != "opt" && profile.empty())
            problems.push_back(shown(name) + ": only usr/ and opt/ are merged by systemd-sysext; "
                                      "move it below usr/ or leave it out");
        else if (name == "etc")
            // Packages ship configuration there: the profile either drops it or
            // keeps it as defaults the host copies into /etc (tmpfiles.d).
            problems.push_back(
                profile + ": etc: only usr/ and opt/ are merged by systemd-sysext; exclude it "
                "(\"exclude\": [\"etc/**\"]) or keep its files as the host's defaults (\"move\": [{\"from\": "
                "\"etc/DIR\", \"to\": \"usr/share/NAME/etc/DIR\", \"etc_defaults\": true}])");
        else if (name != "usr" && name != "opt")
            problems.push_back(profile + ": " + shown(name) +
                               ": only usr/ and opt/ are merged by systemd-sysext; exclude it "
                               "(\"exclude\": [\"" + shown(name) + "/**\"]) or \"move\" it below usr/");
        else if (!child->is_dir())
            problems.push_back(shown(name) + ": must be a directory, is a " + tree::type_name(child->type));
    }
    if (tree.find("usr/lib/os-release"))
        problems.push_back("usr/lib/os-release: an extension must not carry it (systemd-sysext refuses the image)");

    tree.walk([&](const tree::Node& n) {
        if (n.name.size() > k_max_name)
            problems.push_back(shown(n) + ": name is " + std::to_string(n.name.size()) +
                               " bytes long; squashfs holds at most " + std::to_string(k_max_name));
        if (n.type == tree::NodeType::CharDevice || n.type == tree::NodeType::BlockDevice)
            problems.push_back(shown(n) + ": " + tree::type_name(n.type) +
                               ": device nodes cannot be in an extension");
        if (n.type == tree::NodeType::Symlink) {
            if (n.link_target.empty())
                problems.push_back(shown(n) + ": symbolic link with an empty target");
            else if (n.link_target.size() > tree::k_max_path_bytes)
                problems.push_back(shown(n) + ": symbolic link target of " +
                                   std::to_string(n.link_target.size()) +
                                   " bytes; the limit is " + std::to_string(tree::k_max_path_bytes));
            else if (leaves_tree(n))
                problems.push_back(shown(n) + ": symbolic link to " + quote(n.link_target) +
                                   " leads out of the tree");
        }
    });
    check_release(tree, expect, problems);
    return problems;
}

bool xattr_allowed(std::string_view key) {
    return key == "security.capability" || key == "security.selinux" ||
           (key.size() > 5 && key.substr(0, 5) == "user.");
}

std::string drop_foreign_xattrs(tree::Tree& tree) {
    std::vector<std::string> dropped;
    tree.walk([&](tree::Node& n) {
        std::string keys;
        auto keep = std::remove_if(n.xattrs.begin(), n.xattrs.end(), [&](const tree::Xattr& x) {
            if (xattr_allowed(x.key))
                return false;
            keys += (keys.empty() ? "" : ", ") + quote_untrusted(x.key);
            return true;
        });
        if (keep == n.xattrs.end())
            return;
        n.xattrs.erase(keep, n.xattrs.end());
        dropped.push_back(quote_untrusted(n.path()) +
                          (n.origin.empty() ? "" : " (from " + n.origin + ")") + ": " + keys);
    });
    if (dropped.empty())
        return {};
    std::string warning = "dropped extended attributes an extension must not carry (only "
                          "security.capability, security.selinux and user.* reach the image):";
    for (size_t i = 0; i < dropped.size() && i < 5; ++i)
        warning += "\n  " + dropped[i];
    if (dropped.size() > 5)
        warning += "\n  and " + std::to_string(dropped.size() - 5) + " more";
    return warning;
}

} // namespace sysext::validate

#include "sysext/profile/assemble.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <unordered_map>

namespace sysext::profile {

namespace {

using tree::Node;

// Every path in the tree matching the glob, parents before children; a match's
// descendants are not listed again.
std::vector<std::string> matches(const tree::Tree& t, const std::string& glob) {
    std::vector<std::string> out;
    std::function<void(const Node&)> visit = [&](const Node& n) {
        for (const auto& [name, child] : n.children) {
            std::string p = child->path();
            if (tree::glob_match(glob, p))
                out.push_back(p);
            else if (child->is_dir())
                visit(*child);
        }
    };
    visit(t.root());
    return out;
}

class Copier {
public:
    explicit Copier(std::string origin) : m_origin(std::move(origin)) {}

    void copy(const Node& src, tree::Tree& to, const std::string& dest) {
        Node n;
        n.type = src.type;
        n.mode = src.mode;
        n.uid = src.uid;
        n.gid = src.gid;
        n.mtime = src.mtime;
        n.rdev = src.rdev;
        n.link_target = src.link_target;
        n.xattrs = src.xattrs;
        n.origin = src.origin;
        const Node* inode = &src.inode();
        if (auto it = m_copied.find(inode); it != m_copied.end()) {
            n.type = tree::NodeType::File;
            n.hardlink = it->second;
        } else if (src.type == tree::NodeType::File) {
            n.content = inode->content;
            n.mode = inode->mode;
            n.xattrs = inode->xattrs;
        }
        Node& added = to.add(dest, std::move(n));
        if (src.type == tree::NodeType::File && !added.hardlink)
            m_copied[inode] = &added;
        for (const auto& [name, child] : src.children)
            copy(*child, to, dest + "/" + name);
    }

private:
    std::string m_origin;
    std::unordered_map<const Node*, Node*> m_copied;
};

std::string join(const std::string& prefix, const std::string& path) {
    return prefix.empty() ? path : prefix + "/" + path;
}

Node& add_generated(tree::Tree& t, const std::string& path, Node n, const Origin& origin) {
    n.origin = origin.str();
    return t.add(path, std::move(n), /*replace=*/true);
}

// Whether a path can stand in a tmpfiles.d line as it is. systemd-tmpfiles runs
// these lines as root at every boot, and the names come from packages: a
// newline would add a line of the package's choosing, whitespace or a quote
// would split or rejoin fields, "%" would expand a specifier ("%h" is root's
// home), "\\" an escape. Only plain names pass; the rest is refused, not escaped.
bool plain_tmpfiles_path(const std::string& path) {
    return !path.empty() && std::all_of(path.begin(), path.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::strchr("/._+-,@=:~", c) != nullptr;
    });
}

// tmpfiles.d "C" lines: copy each relocated default into /etc when absent.
// Names that cannot stand in such a line as they are go to `refused`.
std::string etc_default_rules(const tree::Tree& t, const MoveSpec& m,
                              std::vector<std::string>& refused) {
    std::string rules;
    const Node* top = t.find(m.to);
    if (!top)
        return rules;
    std::function<void(const Node&, const std::string&)> visit = [&](const Node& n, const std::string& rel) {
        if (n.is_dir()) {
            for (const auto& [name, child] : n.children)
                visit(*child, rel.empty() ? name : rel + "/" + name);
            return;
        }
        std::string etc = "/" + m.from + (rel.empty() ? "" : "/" + rel);
        std::string usr = "/" + m.to + (rel.empty() ? "" : "/" + rel);
        if (!plain_tmpfiles_path(etc) || !plain_tmpfiles_path(usr)) {
            refused.push_back(quote_untrusted(usr.substr(1)) + " (from " + n.origin +
                              "): its name cannot stand in a tmpfiles.d line (only letters, "
                              "digits and /._+-,@=:~ can); exclude it from the profile");
            return;
        }
        rules += "C " + etc + " - - - - " + usr + "\n";
    };
    visit(*top, "");
    return rules;
}

} // namespace

size_t copy_selected(const tree::Tree& from, tree::Tree& to, const std::vector<std::string>& globs,
                     const std::string& prefix, const std::string& origin) {
    Copier copier(origin);
    size_t count = 0;
    for (const auto& g : globs) {
        for (const auto& p : matches(from, g)) {
            if (to.find(join(prefix, p)) && !from.find(p)->is_dir())
                continue; // selected twice by overlapping globs
            copier.copy(*from.find(p), to, join(prefix, p));
            ++count;
        }
    }
    return count;
}

void apply_layout(const Profile& p, tree::Tree& t, const Vars& vars, uint32_t mtime) {
    const Origin top{p.file, 1};
    std::vector<MoveSpec> etc_moves;
    for (const auto& m : p.moves) {
        std::string from = expand(m.from, vars, m.origin), to = expand(m.to, vars, m.origin);
        auto node = t.detach(from);
        if (!node)
            continue; // the sources had nothing there; components catch what is required
        t.attach(to, std::move(node), m.origin.str());
        if (m.etc_defaults)
            etc_moves.push_back({from, to, true, m.origin});
    }
    for (const auto& raw : p.exclude) {
        std::string glob = expand(raw, vars, top);
        for (const auto& path : matches(t, glob))
            t.remove(path);
    }
    for (const auto& m : p.modes) {
        std::string glob = expand(m.path, vars, m.origin);
        auto found = matches(t, glob);
        if (found.empty())
            throw_input(m.origin.str() + ": mode rule " + quote(glob) + " matches nothing");
        for (const auto& path : found) {
            Node* n = t.find(path);
            Node& target = n->hardlink ? *n->hardlink : *n;
            target.mode = m.mode;
        }
    }
    for (const auto& f : p.files) {
        Node n;
        n.type = tree::NodeType::File;
        n.mode = f.mode;
        n.mtime = mtime;
        auto bytes = std::make_shared<std::string>(expand(f.content, vars, f.origin));
        n.content = {tree::Content::Kind::Inline, "", bytes, nullptr, 0, bytes->size()};
        add_generated(t, expand(f.path, vars, f.origin), std::move(n), f.origin);
    }
    for (const auto& l : p.symlinks) {
        Node n;
        n.type = tree::NodeType::Symlink;
        n.mode = 0777;
        n.mtime = mtime;
        n.link_target = expand(l.target, vars, l.origin);
        add_generated(t, expand(l.path, vars, l.origin), std::move(n), l.origin);
    }
    // Rules for relocated /etc defaults, generated files included.
    std::string etc_rules;
    std::vector<std::string> refused;
    for (const auto& m : etc_moves)
        etc_rules += etc_default_rules(t, m, refused);
    if (!refused.empty())
        throw MultiError(ErrorKind::Input, std::move(refused));
    if (!etc_rules.empty()) {
        Node n;
        n.type = tree::NodeType::File;
        n.mtime = mtime;
        auto bytes = std::make_shared<std::string>(
            "# Copies the defaults this extension relocated from /etc back into /etc,\n"
            "# only where the host has no file of that name. Generated by sysext-build.\n" +
            etc_rules);
        n.content = {tree::Content::Kind::Inline, "", bytes, nullptr, 0, bytes->size()};
        add_generated(t, "usr/lib/tmpfiles.d/" + p.name + "-etc-defaults.conf", std::move(n), top);
    }
    // Directories created on the way get the build's time too.
    t.walk([&](Node& n) {
        if (n.is_dir())
            n.mtime = mtime;
    });
}

std::vector<std::string> check_components(const Profile& p, const tree::Tree& t, const Vars& vars) {
    std::vector<std::string> problems;
    for (const auto& c : p.components) {
        for (const auto& raw : c.paths) {
            std::string glob = expand(raw, vars, c.origin);
            if (matches(t, glob).empty())
                problems.push_back(c.origin.str() + ": component " + quote(c.name) + ": nothing at " +
                                   quote(glob) + " in the extension");
        }
    }
    return problems;
}

} // namespace sysext::profile

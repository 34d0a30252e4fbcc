#include "sysext/tree/tree.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <vector>

namespace sysext::tree {

const char* type_name(NodeType t) {
    switch (t) {
    case NodeType::Directory: return "directory";
    case NodeType::File: return "regular file";
    case NodeType::Symlink: return "symbolic link";
    case NodeType::Fifo: return "FIFO";
    case NodeType::Socket: return "socket";
    case NodeType::CharDevice: return "character device";
    case NodeType::BlockDevice: return "block device";
    }
    return "unknown";
}

std::string Node::path() const {
    std::vector<const Node*> chain;
    for (const Node* n = this; n->parent != nullptr; n = n->parent)
        chain.push_back(n);
    std::string p;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        p += (p.empty() ? "" : "/") + (*it)->name;
    return p;
}

std::vector<std::string> split_path(std::string_view path, std::string_view origin) {
    // Bounded before anything is split: a hostile archive's 100,000-level path
    // is refused here instead of costing time and stack further on.
    if (path.size() > k_max_path_bytes + 2) // "./" or "/" in front, "/" behind
        throw_input(std::string(origin) + ": a path of " + std::to_string(path.size()) +
                    " bytes; the limit is " + std::to_string(k_max_path_bytes) + " (" +
                    quote_untrusted(path.substr(0, 64)) + "...)");
    if (path.find('\0') != std::string_view::npos)
        throw_input(std::string(origin) + ": " + quote_untrusted(path) + ": a path holds a NUL byte");
    std::vector<std::string> parts;
    size_t bytes = 0;
    for (auto& part : split(path, '/')) {
        if (part.empty() || part == ".")
            continue;
        if (part == "..")
            throw_input(std::string(origin) + ": " + quote(path) + ": path leaves the tree");
        bytes += (parts.empty() ? 0 : 1) + part.size();
        parts.push_back(std::move(part));
    }
    if (bytes > k_max_path_bytes)
        throw_input(std::string(origin) + ": a path of " + std::to_string(bytes) +
                    " bytes; the limit is " + std::to_string(k_max_path_bytes));
    return parts;
}

Tree::Tree() : m_root(std::make_unique<Node>()) {
    m_root->type = NodeType::Directory;
    m_root->mode = 0755;
}

Node* Tree::find(std::string_view path) {
    Node* n = m_root.get();
    for (const auto& part : split_path(path, "lookup")) {
        if (!n->is_dir())
            return nullptr;
        auto it = n->children.find(part);
        if (it == n->children.end())
            return nullptr;
        n = it->second.get();
    }
    return n;
}

const Node* Tree::find(std::string_view path) const {
    return const_cast<Tree*>(this)->find(path);
}

Node& Tree::ensure_dir(std::string_view path) {
    return ensure_dir(split_path(path, path));
}

Node& Tree::ensure_dir(const std::vector<std::string>& parts) {
    std::string path;
    for (const auto& p : parts)
        path += (path.empty() ? "" : "/") + p;
    Node* n = m_root.get();
    for (const auto& part : parts) {
        if (!n->is_dir())
            throw_input(quote(n->path()) + " is a " + type_name(n->type) +
                        (n->origin.empty() ? "" : " (from " + n->origin + ")") +
                        ", not a directory, but " + quote(path) + " is below it");
        auto& slot = n->children[part];
        if (!slot) {
            count_new_entry(path);
            slot = std::make_unique<Node>();
            slot->name = part;
            slot->type = NodeType::Directory;
            slot->mode = 0755;
            slot->mtime = m_default_mtime;
            slot->parent = n;
        }
        n = slot.get();
    }
    if (!n->is_dir())
        throw_input(quote(path) + " is a " + type_name(n->type) +
                    (n->origin.empty() ? "" : " (from " + n->origin + ")") + ", not a directory");
    return *n;
}

void Tree::count_new_entry(const std::string& origin) {
    if (++m_entries_added > k_max_entries)
        throw_input(origin + ": more than " + std::to_string(k_max_entries) +
                    " entries in the tree; the limit is " + std::to_string(k_max_entries));
}

Node& Tree::add(std::string_view path, Node node, bool replace) {
    auto parts = split_path(path, node.origin.empty() ? path : node.origin);
    if (parts.empty()) {
        // The root itself. Its metadata is fixed (0755, root, the default time)
        // so that a directory, and an archive with or without a "./" entry, give
        // the same image; systemd-sysext merges only what is below it anyway.
        if (!node.is_dir())
            throw_input(node.origin + ": the root of the tree must be a directory");
        return *m_root;
    }
    std::string leaf = parts.back();
    parts.pop_back();
    Node& parent = ensure_dir(parts);
    auto& slot = parent.children[leaf];
    if (slot) {
        if (slot->is_dir() && node.is_dir()) {
            // A directory seen again (or created implicitly first): take the metadata.
            slot->mode = node.mode;
            slot->uid = node.uid;
            slot->gid = node.gid;
            slot->mtime = node.mtime;
            slot->xattrs = std::move(node.xattrs);
            slot->origin = std::move(node.origin);
            return *slot;
        }
        if (!replace)
            throw_input(node.origin + ": " + quote(path) + " is already in the tree" +
                        (slot->origin.empty() ? "" : " (from " + slot->origin + ")"));
    }
    if (!slot)
        count_new_entry(node.origin.empty() ? std::string(path) : node.origin);
    node.name = leaf;
    node.parent = &parent;
    if (!node.is_dir())
        node.children.clear();
    slot = std::make_unique<Node>(std::move(node));
    for (auto& [n, child] : slot->children)
        child->parent = slot.get();
    return *slot;
}

bool Tree::remove(std::string_view path) {
    auto parts = split_path(path, path);
    if (parts.empty())
        return false;
    std::string leaf = parts.back();
    parts.pop_back();
    Node* n = m_root.get();
    for (const auto& p : parts) {
        auto it = n->children.find(p);
        if (it == n->children.end() || !it->second->is_dir())
            return false;
        n = it->second.get();
    }
    return n->children.erase(leaf) > 0;
}

std::unique_ptr<Node> Tree::detach(std::string_view path) {
    auto parts = split_path(path, path);
    if (parts.empty())
        return nullptr;
    Node* parent = m_root.get();
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        auto it = parent->children.find(parts[i]);
        if (it == parent->children.end() || !it->second->is_dir())
            return nullptr;
        parent = it->second.get();
    }
    auto it = parent->children.find(parts.back());
    if (it == parent->children.end())
        return nullptr;
    std::unique_ptr<Node> node = std::move(it->second);
    parent->children.erase(it);
    node->parent = nullptr;
    return node;
}

Node& Tree::attach(std::string_view path, std::unique_ptr<Node> node, std::string_view origin) {
    auto parts = split_path(path, origin);
    if (parts.empty())
        throw_input(std::string(origin) + ": cannot replace the root of the tree");
    std::string leaf = parts.back();
    parts.pop_back();
    Node& parent = ensure_dir(parts);
    auto& slot = parent.children[leaf];
    if (!slot) {
        node->name = leaf;
        node->parent = &parent;
        slot = std::move(node);
        return *slot;
    }
    if (!slot->is_dir() || !node->is_dir())
        throw_input(std::string(origin) + ": " + quote(path) + " is already in the tree");
    std::string base(path);
    for (auto& [name, child] : node->children)
        attach(base + "/" + name, std::move(child), origin);
    return *slot;
}

namespace {
bool match_component(std::string_view pat, std::string_view name) {
    // Classic wildcard match within one path component.
    size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
    while (n < name.size()) {
        if (p < pat.size() && (pat[p] == '?' || pat[p] == name[n])) {
            ++p;
            ++n;
        } else if (p < pat.size() && pat[p] == '*') {
            star = p++;
            mark = n;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            n = ++mark;
        } else {
            return false;
        }
    }
    while (p < pat.size() && pat[p] == '*')
        ++p;
    return p == pat.size();
}

bool match_parts(const std::vector<std::string>& pat, size_t pi, const std::vector<std::string>& path,
                 size_t si) {
    if (pi == pat.size())
        return si == path.size();
    if (pat[pi] == "**") {
        for (size_t k = si; k <= path.size(); ++k)
            if (match_parts(pat, pi + 1, path, k))
                return true;
        return false;
    }
    return si < path.size() && match_component(pat[pi], path[si]) &&
           match_parts(pat, pi + 1, path, si + 1);
}
} // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
    return match_parts(split(pattern, '/'), 0, split(path, '/'), 0);
}

void Tree::finalize() {
    walk([](Node& n) { n.link_count = 1; });
    walk([](Node& n) {
        if (n.hardlink)
            n.hardlink->link_count++;
        if (n.is_dir()) {
            // "." and the entry in the parent, plus each subdirectory's "..".
            n.link_count = 2;
            for (auto& [name, child] : n.children)
                if (child->is_dir())
                    n.link_count++;
        }
    });
}

uint64_t Tree::count() const {
    uint64_t c = 0;
    walk([&](const Node&) { ++c; });
    return c;
}

} // namespace sysext::tree

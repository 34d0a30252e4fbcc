// Path resolution in the merged view of the extension over the base system
// (see elf_view.hpp). Only usr/ and opt/ of the extension are visible, as
// systemd-sysext merges nothing else.
#include "sysext/validate/elf_view.hpp"

#include <vector>

namespace sysext::validate {

namespace {

constexpr int k_max_symlinks = 40; // the kernel's limit (MAXSYMLINKS)

// Pushes a path's components onto a stack so that the first is popped first.
void push_components(std::vector<std::string>& todo, std::string_view path) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string_view::npos)
            slash = path.size();
        if (slash > start)
            parts.emplace_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    todo.insert(todo.end(), parts.rbegin(), parts.rend());
}

std::string join(const std::vector<std::string>& parts, const std::string& last) {
    std::string out;
    for (const auto& p : parts)
        out += p + "/";
    return out + last;
}

} // namespace

std::optional<FoundFile> MergedView::resolve(std::string_view absolute_path, bool want_dir) const {
    // Where the walk stands: the extension's directory node and whether the same
    // path is a real directory in the base (then both layers are merged there).
    struct Level {
        const tree::Node* ext;
        bool base;
    };
    std::vector<std::string> todo;
    push_components(todo, absolute_path);
    std::vector<std::string> parts;
    std::vector<Level> levels{{m_tree ? &m_tree->root() : nullptr, m_base != nullptr}};
    int hops = 0;

    auto follow = [&](const std::string& target) {
        if (++hops > k_max_symlinks || target.empty())
            return false;
        if (target[0] == '/') {
            parts.clear();
            levels.resize(1);
        }
        push_components(todo, target);
        return true;
    };

    while (!todo.empty()) {
        std::string name = std::move(todo.back());
        todo.pop_back();
        if (name == ".")
            continue;
        if (name == "..") {
            if (!parts.empty()) {
                parts.pop_back();
                levels.pop_back();
            }
            continue;
        }
        const Level here = levels.back();
        const bool last = todo.empty();
        const std::string rel = join(parts, name);

        const tree::Node* ext = nullptr;
        if (here.ext && (!parts.empty() || name == "usr" || name == "opt")) {
            auto it = here.ext->children.find(name);
            if (it != here.ext->children.end())
                ext = it->second.get();
        }
        if (ext) {
            // The upper layer's entry hides the base's, unless both are directories.
            if (ext->type == tree::NodeType::Symlink) {
                if (!follow(ext->link_target))
                    return std::nullopt;
                continue;
            }
            if (ext->is_dir()) {
                bool base_dir =
                    here.base && m_base->entry(rel).kind == BaseLibraries::Kind::Directory;
                parts.push_back(name);
                levels.push_back({ext, base_dir});
                continue;
            }
            if (ext->type == tree::NodeType::File && last && !want_dir)
                return FoundFile{&ext->inode(), "", "/" + rel};
            return std::nullopt;
        }
        if (!here.base)
            return std::nullopt;
        BaseLibraries::Entry e = m_base->entry(rel);
        switch (e.kind) {
        case BaseLibraries::Kind::None:
            return std::nullopt;
        case BaseLibraries::Kind::Symlink:
            if (!follow(e.target))
                return std::nullopt;
            continue;
        case BaseLibraries::Kind::Directory:
            parts.push_back(name);
            levels.push_back({nullptr, true});
            continue;
        case BaseLibraries::Kind::File:
            if (last && !want_dir)
                return FoundFile{nullptr, rel, "/" + rel};
            return std::nullopt;
        }
    }
    if (!want_dir)
        return std::nullopt;
    std::string rel = join(parts, "");
    if (!rel.empty())
        rel.pop_back(); // join's trailing slash
    const Level& here = levels.back();
    if (!here.ext && !here.base)
        return std::nullopt; // only the root of an empty view
    return FoundFile{here.ext, here.base ? rel : "", "/" + rel};
}

} // namespace sysext::validate

// The extension tree: every path that will be in the image, with its metadata
// and where its bytes come from, before anything is packed.
//
// Sources (a directory, an archive, generated files) add nodes; validation reads
// the tree; the squashfs writer serialises it. Children are kept in bytewise
// order, which is the order squashfs directories need and the order file data
// is written in, so the same tree always gives the same image.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sysext::tree {

enum class NodeType { Directory, File, Symlink, Fifo, Socket, CharDevice, BlockDevice };

const char* type_name(NodeType t);

struct Xattr {
    std::string key;
    std::string value;
    bool operator==(const Xattr&) const = default;
};

// Contents read as a stream, such as an archive's entries (content_reader.hpp).
class StreamedContent;

// Where a regular file's bytes come from.
struct Content {
    enum class Kind { Empty, Disk, Inline, Stream } kind = Kind::Empty;
    std::string disk_path;                       // Kind::Disk
    std::shared_ptr<const std::string> bytes;    // Kind::Inline
    std::shared_ptr<StreamedContent> stream;     // Kind::Stream
    uint64_t stream_index = 0;                   // Kind::Stream: the entry's position
    uint64_t size = 0;
};

struct Node {
    std::string name;
    NodeType type = NodeType::File;
    uint32_t mode = 0644; // permission bits, setuid/setgid/sticky included; no type bits
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t mtime = 0;
    uint64_t rdev = 0;
    std::string link_target; // Symlink
    Content content;         // File
    std::vector<Xattr> xattrs;
    // A hard link: this entry names the same inode as `hardlink` (a File node).
    Node* hardlink = nullptr;
    uint32_t link_count = 1; // set by Tree::finalize()
    // Where the entry came from, for messages ("input.tar: usr/bin/x").
    std::string origin;

    Node* parent = nullptr;
    std::map<std::string, std::unique_ptr<Node>> children; // Directory only; bytewise order

    bool is_dir() const { return type == NodeType::Directory; }
    bool is_file() const { return type == NodeType::File && hardlink == nullptr; }
    // The node whose inode this entry uses.
    const Node& inode() const { return hardlink ? *hardlink : *this; }
    // "usr/bin/podman" (no leading slash; "" for the root).
    std::string path() const;
};

class Tree {
public:
    Tree();
    Node& root() { return *m_root; }
    const Node& root() const { return *m_root; }

    // Looks a relative path up ("usr/bin/x"); nullptr when absent.
    Node* find(std::string_view path);
    const Node* find(std::string_view path) const;

    // Adds (or, with replace, replaces) an entry at a relative path. Missing parent
    // directories are created 0755 root:root with the tree's default mtime.
    // Throws Input naming `origin` when a parent is not a directory, or when the
    // entry exists and replace is false (unless both are directories, whose
    // metadata is then updated).
    Node& add(std::string_view path, Node node, bool replace = false);
    // Removes an entry (and everything below it). Returns false when absent.
    bool remove(std::string_view path);
    // Takes an entry (and everything below it) out of the tree; nullptr when absent.
    std::unique_ptr<Node> detach(std::string_view path);
    // Puts a detached entry at path. Directories merge into an existing directory
    // (entries of the same name must not clash); anything else must be new.
    Node& attach(std::string_view path, std::unique_ptr<Node> node, std::string_view origin);

    // Creates missing parents, sets defaults. Used by add(); exposed for sources.
    Node& ensure_dir(std::string_view path);
    Node& ensure_dir(const std::vector<std::string>& parts);

    // The time of directories the tree creates, the root's included.
    void set_default_mtime(uint32_t t) {
        m_default_mtime = t;
        m_root->mtime = t;
    }

    // Sets link counts (hard links, subdirectories). Call before packing.
    void finalize();

    // Visits every node, parents before children, children in bytewise order.
    template <class F> void walk(F&& f) const { walk_node(*m_root, f); }
    template <class F> void walk(F&& f) { walk_node(*m_root, f); }

    uint64_t count() const;

private:
    template <class N, class F> static void walk_node(N& n, F& f) {
        f(n);
        for (auto& [name, child] : n.children)
            walk_node(*child, f);
    }
    std::unique_ptr<Node> m_root;
    uint32_t m_default_mtime = 0;
    size_t m_entries_added = 0; // entries ever added, removals not counted back

    // Throws Input once more than k_max_entries entries were added.
    void count_new_entry(const std::string& origin);
};

// Glob match on a relative path: "*" and "?" stay within one component, "**"
// spans any number of components ("usr/lib/**/*.so*").
bool glob_match(std::string_view pattern, std::string_view path);

// The longest path a tree holds, "a/b/c" without the leading "/": PATH_MAX less
// its NUL, what Linux resolves in one call and our image reader accepts.
inline constexpr size_t k_max_path_bytes = 4095;
// The most entries a tree takes: what our image reader accepts.
inline constexpr size_t k_max_entries = 1'000'000;

// Splits "a/b/c" (leading "./" and "/" and trailing "/" removed) into components.
// Throws Input for "..", a NUL byte, or more than k_max_path_bytes; empty
// components in the middle are skipped.
std::vector<std::string> split_path(std::string_view path, std::string_view origin);

} // namespace sysext::tree

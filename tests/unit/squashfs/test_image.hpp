// Trees and images for the tests of the squashfs writer, its reader and what
// reads images (inspect): files whose bytes are in memory, the special entries
// every image test needs, and packing a tree the way the pipeline does.
#pragma once

#include "sysext/squashfs/writer.hpp"
#include "sysext/tree/tree.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/sha256.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace sysext::test {

// A regular file holding text (an empty one for "").
inline tree::Node inline_file(std::string text, uint32_t mode = 0644) {
    tree::Node n;
    n.type = tree::NodeType::File;
    n.mode = mode;
    auto bytes = std::make_shared<std::string>(std::move(text));
    n.content = {bytes->empty() ? tree::Content::Kind::Empty : tree::Content::Kind::Inline, "",
                 bytes, nullptr, 0, bytes->size()};
    return n;
}

// The entries besides plain files and directories: a hard link pair
// (usr/share/a, usr/share/b), a symbolic link usr/bin/link to ../share/big.txt,
// a FIFO usr/share/fifo and a sticky directory usr/tmp.
inline void add_special_entries(tree::Tree& t) {
    tree::Node& target = t.add("usr/share/a", inline_file("same inode"));
    tree::Node link;
    link.type = tree::NodeType::File;
    link.hardlink = &target;
    t.add("usr/share/b", std::move(link));
    tree::Node sl;
    sl.type = tree::NodeType::Symlink;
    sl.mode = 0777;
    sl.link_target = "../share/big.txt";
    t.add("usr/bin/link", std::move(sl));
    tree::Node fifo;
    fifo.type = tree::NodeType::Fifo;
    t.add("usr/share/fifo", std::move(fifo));
    tree::Node& sticky = t.ensure_dir("usr/tmp");
    sticky.mode = 01777;
}

// Writes t as an image at path, through a temporary name as the pipeline does.
inline void write_image_file(const tree::Tree& t, const std::string& path,
                             const squashfs::WriterOptions& o) {
    AtomicFile out(path);
    squashfs::write_image(t, out.fd(), o, null_reporter());
    out.commit();
}

// write_image_file, returning the image's SHA-256 in hex: tests compare images by it.
inline std::string pack_sha256(const tree::Tree& t, const std::string& path,
                               const squashfs::WriterOptions& o) {
    write_image_file(t, path, o);
    return to_hex(sha256_file(path));
}

} // namespace sysext::test

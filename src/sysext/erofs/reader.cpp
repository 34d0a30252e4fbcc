// Walks an EROFS image's directories from the root nid, one directory at a
// time (blocks of 12-byte dirents, then their names: the kernel's
// fs/erofs/dir.c), and turns each inode into an ImageEntry.
#include "sysext/erofs/reader.hpp"

#include "sysext/erofs/read_data.hpp"
#include "sysext/erofs/read_inode.hpp"
#include "sysext/erofs/read_source.hpp"
#include "sysext/util/endian.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace sysext::erofs {

using image::ImageEntry;
using image::ImageListing;
using image::k_max_entries;
using image::k_max_path;

namespace {

// Directories are read whole; all of them together may hold no more than this
// many times the image's bytes (uncompressed ones cannot hold more than once),
// so that directories sharing blocks cannot make a small image slow to read.
constexpr uint64_t k_dir_expansion = 8;

struct Child {
    std::string name;
    uint64_t nid;
};

using image::join;
using image::shown;

class Walker {
public:
    explicit Walker(const ReadSource& src) : m_src(src) {}

    ReadInode inode(uint64_t nid, const std::string& path) const {
        return read_inode(m_src, nid, shown(path));
    }
    std::vector<Child> list_dir(const ReadInode& dir, const std::string& path);
    ImageEntry make_entry(const ReadInode& inode, std::string path) const;
    bool saw_compressed() const { return m_compressed; }

private:
    void list_block(const char* b, uint64_t size, uint64_t block, const std::string& path,
                    std::vector<Child>& children) const;

    const ReadSource& m_src;
    uint64_t m_dir_bytes = 0;
    mutable bool m_compressed = false;
};

// One directory block: dirents up to the first name's offset, each name up to
// the next one's (the last up to a NUL or the block's end).
void Walker::list_block(const char* b, uint64_t size, uint64_t block, const std::string& path,
                        std::vector<Child>& children) const {
    const auto* u = reinterpret_cast<const uint8_t*>(b);
    const std::string where = shown(path) + ": directory block " + std::to_string(block);
    if (size < k_dirent)
        m_src.corrupt(where + " is too short for an entry");
    const uint64_t first = get_le(u + 8, 2);
    if (first < k_dirent || first >= size)
        m_src.corrupt(where + ": first name offset " + std::to_string(first) + " is invalid");
    const uint64_t count = first / k_dirent;
    for (uint64_t i = 0; i < count; ++i) {
        const uint8_t* de = u + i * k_dirent;
        const uint64_t nameoff = get_le(de + 8, 2);
        uint64_t end = size;
        if (i + 1 < count)
            end = get_le(de + k_dirent + 8, 2);
        if (nameoff < first || nameoff > size || end > size || end < nameoff)
            m_src.corrupt(where + ": entry " + std::to_string(i) + " has name offsets " +
                          std::to_string(nameoff) + " to " + std::to_string(end));
        std::string name(b + nameoff, end - nameoff);
        if (i + 1 == count)
            name.resize(std::min(name.size(), name.find('\0')));
        if (name.empty() || name.size() > k_max_name)
            m_src.corrupt(where + ": entry " + std::to_string(i) + " has a name of " +
                          std::to_string(name.size()) + " bytes");
        if (name == "." || name == "..")
            continue;
        if (name.find_first_of(std::string("/\0", 2)) != std::string::npos)
            m_src.corrupt(shown(path) + ": invalid entry name " + quote(name));
        if (children.size() >= k_max_entries)
            m_src.corrupt(shown(path) + ": more than " + std::to_string(k_max_entries) +
                          " entries");
        children.push_back({std::move(name), get_le(de, 8)});
    }
}

// The entries of one directory, checked: sane names, no duplicates.
std::vector<Child> Walker::list_dir(const ReadInode& dir, const std::string& path) {
    const uint64_t budget = k_dir_expansion * m_src.size();
    if (dir.size > m_src.size())
        m_src.corrupt(shown(path) + ": directory of " + std::to_string(dir.size) +
                      " bytes, larger than the image");
    if (dir.size > budget - m_dir_bytes)
        m_src.corrupt(shown(path) + ": directories of " + std::to_string(m_dir_bytes + dir.size) +
                      " bytes, more than " + std::to_string(k_dir_expansion) + " times the image");
    m_dir_bytes += dir.size;
    m_compressed = m_compressed || dir.compressed();
    const std::string data = read_data(m_src, dir, shown(path));
    std::vector<Child> children;
    const uint64_t bs = m_src.super().block_size;
    for (uint64_t at = 0; at < data.size(); at += bs)
        list_block(data.data() + at, std::min<uint64_t>(bs, data.size() - at), at / bs, path,
                   children);
    std::sort(children.begin(), children.end(),
              [](const Child& a, const Child& b) { return a.name < b.name; });
    for (size_t i = 1; i < children.size(); ++i)
        if (children[i].name == children[i - 1].name)
            m_src.corrupt(shown(path) + ": entry " + quote(children[i].name) + " appears twice");
    return children;
}

ImageEntry Walker::make_entry(const ReadInode& inode, std::string path) const {
    ImageEntry e;
    e.path = std::move(path);
    e.type = inode.type();
    e.mode = inode.mode & 07777;
    e.uid = inode.uid;
    e.gid = inode.gid;
    e.nlink = inode.nlink;
    e.inode = inode.nid;
    m_compressed = m_compressed || inode.compressed();
    switch (e.type) {
    case 'f':
        e.size = inode.size;
        break;
    case 'l':
        if (inode.size > k_max_path)
            m_src.corrupt(shown(e.path) + ": symbolic link target of " +
                          std::to_string(inode.size) + " bytes");
        e.target = read_data(m_src, inode, shown(e.path));
        e.size = e.target.size();
        break;
    case 'c':
    case 'b':
        e.rdev = inode.i_u;
        break;
    default:
        break;
    }
    e.xattrs = read_xattrs(m_src, inode, shown(e.path));
    return e;
}

image::ImageSummary summarize(const ReadSource& src, bool compressed) {
    const ReadSuper& s = src.super();
    image::ImageSummary summary;
    summary.format = "erofs";
    // The algorithms the superblock lists ("lz4", "zstd", "lz4,lzma"); without
    // COMPR_CFGS, LZ4 when a file is compressed.
    std::string algorithms;
    for (unsigned alg = 0; alg < 16; ++alg)
        if (s.compr_algs & (1u << alg)) {
            const char* name = compression_algorithm_name(alg);
            algorithms += (algorithms.empty() ? "" : ",") +
                          (name ? std::string(name) : "algorithm " + std::to_string(alg));
        }
    if (algorithms.empty())
        algorithms = compressed ? "lz4" : "none";
    summary.compressor = algorithms;
    summary.block_size = s.block_size;
    summary.bytes_used = uint64_t{s.blocks} << s.block_bits;
    summary.mtime = s.build_time;
    summary.inode_count = s.inodes;
    return summary;
}

// The inode at `file_path` (no symlinks followed); throws when a part is missing.
// `walked` becomes the path without empty parts ("/usr//bin" -> "usr/bin").
ReadInode find_inode(const ReadSource& src, Walker& walker, const std::string& file_path,
                     std::string& walked) {
    ReadInode inode = walker.inode(src.super().root_nid, "");
    if (inode.type() != 'd')
        src.corrupt("the root inode is not a directory");
    walked.clear();
    for (const std::string& part : split(file_path, '/')) {
        if (part.empty())
            continue;
        if (inode.type() != 'd')
            src.corrupt(file_path + ": " + shown(walked) + " is not a directory");
        std::vector<Child> children = walker.list_dir(inode, walked);
        auto it = std::find_if(children.begin(), children.end(),
                               [&](const Child& c) { return c.name == part; });
        walked = join(walked, part);
        if (it == children.end())
            throw_input(src.name() + ": " + shown(walked) + ": no such file in the image");
        inode = walker.inode(it->nid, walked);
    }
    return inode;
}

std::string read_file(const ReadSource& src, const std::string& file_path, uint64_t max_bytes) {
    Walker walker(src);
    std::string walked;
    const ReadInode inode = find_inode(src, walker, file_path, walked);
    walked = shown(walked);
    if (inode.type() != 'f')
        throw_input(src.name() + ": " + walked + ": not a regular file in the image");
    if (inode.size > max_bytes)
        throw_input(src.name() + ": " + walked + ": " + std::to_string(inode.size) +
                    " bytes, more than the " + std::to_string(max_bytes) + " allowed");
    return read_data(src, inode, walked);
}

} // namespace

ImageListing read_image(const std::string& path, uint64_t offset, uint64_t size) {
    const ReadSource src(path, offset, size);
    Walker walker(src);
    ImageListing listing;

    const uint64_t root_nid = src.super().root_nid;
    ReadInode root = walker.inode(root_nid, "");
    if (root.type() != 'd')
        src.corrupt("the root inode is not a directory");
    listing.entries.push_back(walker.make_entry(root, ""));

    // Depth first with an explicit stack: a hostile image cannot exhaust the
    // call stack, and every directory inode may be entered once only.
    std::set<uint64_t> entered{root_nid};
    std::vector<std::pair<std::string, ReadInode>> pending;
    pending.emplace_back("", root);
    while (!pending.empty()) {
        auto [dir_path, dir] = std::move(pending.back());
        pending.pop_back();
        for (Child& child : walker.list_dir(dir, dir_path)) {
            std::string child_path = join(dir_path, child.name);
            if (child_path.size() > k_max_path)
                src.corrupt(shown(child_path.substr(0, 64)) + "...: path longer than " +
                            std::to_string(k_max_path) + " bytes");
            if (listing.entries.size() >= k_max_entries)
                src.corrupt("more than " + std::to_string(k_max_entries) + " entries");
            ReadInode inode = walker.inode(child.nid, child_path);
            listing.entries.push_back(walker.make_entry(inode, child_path));
            if (inode.type() != 'd')
                continue;
            if (!entered.insert(child.nid).second)
                src.corrupt(shown(child_path) + ": directory reached twice (a directory loop)");
            pending.emplace_back(std::move(child_path), inode);
        }
    }
    std::sort(listing.entries.begin(), listing.entries.end(),
              [](const ImageEntry& a, const ImageEntry& b) { return a.path < b.path; });
    listing.summary = summarize(src, walker.saw_compressed());
    return listing;
}

std::string read_image_file(const std::string& path, const std::string& file_path,
                            uint64_t max_bytes, uint64_t offset, uint64_t size) {
    const ReadSource src(path, offset, size);
    return read_file(src, file_path, max_bytes);
}

std::string read_image_file(int fd, const std::string& name, const std::string& file_path,
                            uint64_t max_bytes, uint64_t offset, uint64_t size) {
    const ReadSource src(fd, name, offset, size);
    return read_file(src, file_path, max_bytes);
}

std::vector<ImageEntry> read_image_dir(int fd, const std::string& name, const std::string& dir_path,
                                       uint64_t offset, uint64_t size) {
    const ReadSource src(fd, name, offset, size);
    Walker walker(src);
    std::string walked;
    const ReadInode dir = find_inode(src, walker, dir_path, walked);
    if (dir.type() != 'd')
        throw_input(name + ": " + shown(walked) + ": not a directory in the image");
    std::vector<ImageEntry> entries;
    for (Child& child : walker.list_dir(dir, walked)) {
        std::string child_path = join(walked, child.name);
        entries.push_back(walker.make_entry(walker.inode(child.nid, child_path), child_path));
    }
    return entries;
}

} // namespace sysext::erofs

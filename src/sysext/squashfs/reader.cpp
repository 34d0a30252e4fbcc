// Walks a squashfs image's directory table from the root inode, one
// directory at a time (SquashFS 4.0 layout: directory headers and entries
// pointing into the inode table), and turns each inode into an ImageEntry.
#include "sysext/squashfs/reader.hpp"

#include "sysext/squashfs/image_source.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <sqfs/dir.h>
#include <sqfs/inode.h>
#include <sqfs/xattr.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace sysext::squashfs {

namespace {

// More xattrs on one inode than this is damage, not a file.
constexpr uint32_t k_max_xattrs = 4096;

struct Child {
    std::string name;
    uint64_t ref; // inode reference: block << 16 | offset
};

template <class T> using FreePtr = std::unique_ptr<T, FreeDeleter>;

using image::join;
using image::shown;

// The entries of one directory, checked: sane names, no duplicates.
std::vector<Child> list_dir(ImageSource& img, const sqfs_inode_generic_t& dir,
                            const std::string& path) {
    sqfs_readdir_state_t state;
    int ret = sqfs_readdir_state_init(&state, &img.super(), &dir);
    if (ret != 0)
        img.fail(shown(path), ret);
    std::vector<Child> children;
    for (;;) {
        sqfs_dir_entry_t* raw = nullptr;
        sqfs_u64 ref = 0;
        ret = sqfs_meta_reader_readdir(img.dir_reader(), &state, &raw, nullptr, &ref);
        if (ret > 0)
            break;
        if (ret < 0)
            img.fail(shown(path) + ": reading the directory", ret);
        FreePtr<sqfs_dir_entry_t> ent(raw);
        std::string name(reinterpret_cast<const char*>(ent->name),
                         static_cast<size_t>(ent->size) + 1);
        if (name == "." || name == ".." ||
            name.find_first_of(std::string("/\0", 2)) != std::string::npos)
            img.corrupt(shown(path) + ": invalid entry name " + quote(name));
        if (children.size() >= k_max_entries)
            img.corrupt(shown(path) + ": more than " + std::to_string(k_max_entries) + " entries");
        children.push_back({std::move(name), ref});
    }
    std::sort(children.begin(), children.end(),
              [](const Child& a, const Child& b) { return a.name < b.name; });
    for (size_t i = 1; i < children.size(); ++i)
        if (children[i].name == children[i - 1].name)
            img.corrupt(shown(path) + ": entry " + quote(children[i].name) + " appears twice");
    return children;
}

void read_xattrs(ImageSource& img, const sqfs_inode_generic_t& inode, ImageEntry& e) {
    sqfs_u32 index = 0xFFFFFFFF;
    if (sqfs_inode_get_xattr_index(&inode, &index) != 0 || index == 0xFFFFFFFF)
        return;
    sqfs_xattr_reader_t* xr = img.xattrs();
    if (xr == nullptr)
        img.corrupt(shown(e.path) + ": inode names xattrs, but the image has no xattr table");
    sqfs_xattr_id_t desc{};
    int ret = sqfs_xattr_reader_get_desc(xr, index, &desc);
    if (ret == 0)
        ret = sqfs_xattr_reader_seek_kv(xr, &desc);
    if (ret != 0)
        img.fail(shown(e.path) + ": xattrs", ret);
    if (desc.count > k_max_xattrs)
        img.corrupt(shown(e.path) + ": " + std::to_string(desc.count) + " xattrs");
    img.check_xattr_sizes(desc, shown(e.path));
    for (uint32_t i = 0; i < desc.count; ++i) {
        sqfs_xattr_entry_t* raw_key = nullptr;
        ret = sqfs_xattr_reader_read_key(xr, &raw_key);
        if (ret != 0)
            img.fail(shown(e.path) + ": xattr key", ret);
        FreePtr<sqfs_xattr_entry_t> key(raw_key);
        sqfs_xattr_value_t* raw_value = nullptr;
        ret = sqfs_xattr_reader_read_value(xr, key.get(), &raw_value);
        if (ret != 0)
            img.fail(shown(e.path) + ": xattr value", ret);
        FreePtr<sqfs_xattr_value_t> value(raw_value);
        e.xattrs[reinterpret_cast<const char*>(key->key)] =
            std::string(reinterpret_cast<const char*>(value->value), value->size);
    }
}

ImageEntry make_entry(ImageSource& img, const sqfs_inode_generic_t& inode, std::string path) {
    ImageEntry e;
    e.path = std::move(path);
    e.mode = inode.base.mode & 07777;
    e.uid = img.id(inode.base.uid_idx, shown(e.path));
    e.gid = img.id(inode.base.gid_idx, shown(e.path));
    e.inode = inode.base.inode_number;
    // Types 1-7 are the basic inodes, 8-14 the same kinds extended.
    const uint16_t type = inode.base.type;
    if (type < SQFS_INODE_DIR || type > SQFS_INODE_EXT_SOCKET)
        img.corrupt(shown(e.path) + ": unknown inode type " + std::to_string(type));
    e.type = "dflbcps"[(type - 1) % 7];
    const bool ext = type >= SQFS_INODE_EXT_DIR;
    const auto& d = inode.data;
    switch (e.type) {
    case 'd':
        e.nlink = ext ? d.dir_ext.nlink : d.dir.nlink;
        break;
    case 'f':
        e.nlink = ext ? d.file_ext.nlink : 1;
        break;
    case 'l':
        e.nlink = ext ? d.slink_ext.nlink : d.slink.nlink;
        break;
    case 'b':
    case 'c':
        e.nlink = ext ? d.dev_ext.nlink : d.dev.nlink;
        e.rdev = ext ? d.dev_ext.devno : d.dev.devno;
        break;
    default: // fifo, socket
        e.nlink = ext ? d.ipc_ext.nlink : d.ipc.nlink;
        break;
    }
    if (e.type == 'f') {
        sqfs_u64 size = 0;
        sqfs_inode_get_file_size(&inode, &size);
        e.size = size;
    } else if (e.type == 'l') {
        size_t n =
            inode.base.type == SQFS_INODE_SLINK ? d.slink.target_size : d.slink_ext.target_size;
        e.target.assign(reinterpret_cast<const char*>(inode.extra), n);
        e.size = n;
    }
    read_xattrs(img, inode, e);
    return e;
}

uint64_t root_ref(const ImageSource& img) {
    return img.super().root_inode_ref;
}

ImageSummary summarize(const ImageSource& img) {
    const sqfs_super_t& s = img.super();
    ImageSummary summary;
    const char* name = sqfs_compressor_name_from_id(static_cast<SQFS_COMPRESSOR>(s.compression_id));
    summary.format = "squashfs";
    summary.compressor = name != nullptr ? name : std::to_string(s.compression_id);
    summary.block_size = s.block_size;
    summary.bytes_used = s.bytes_used;
    summary.mtime = s.modification_time;
    summary.inode_count = s.inode_count;
    summary.fragment_count = s.fragment_entry_count;
    return summary;
}

bool is_dir(const sqfs_inode_generic_t& inode) {
    return inode.base.type == SQFS_INODE_DIR || inode.base.type == SQFS_INODE_EXT_DIR;
}

} // namespace

ImageListing read_image(const std::string& path, uint64_t offset, uint64_t size) {
    ImageSource img(path, offset, size);
    ImageListing listing;
    listing.summary = summarize(img);

    InodePtr root = img.read_inode(root_ref(img), "/");
    if (!is_dir(*root))
        img.corrupt("the root inode is not a directory");
    listing.entries.push_back(make_entry(img, *root, ""));

    // Depth first with an explicit stack: a hostile image cannot exhaust the
    // call stack, and every directory inode may be entered once only.
    std::set<uint64_t> entered{root_ref(img)};
    std::vector<std::pair<std::string, InodePtr>> pending;
    pending.emplace_back("", std::move(root));
    while (!pending.empty()) {
        auto [dir_path, dir] = std::move(pending.back());
        pending.pop_back();
        for (Child& child : list_dir(img, *dir, dir_path)) {
            std::string child_path = join(dir_path, child.name);
            if (child_path.size() > k_max_path)
                img.corrupt(shown(child_path.substr(0, 64)) + "...: path longer than " +
                            std::to_string(k_max_path) + " bytes");
            if (listing.entries.size() >= k_max_entries)
                img.corrupt("more than " + std::to_string(k_max_entries) + " entries");
            InodePtr inode = img.read_inode(child.ref, shown(child_path));
            listing.entries.push_back(make_entry(img, *inode, child_path));
            if (!is_dir(*inode))
                continue;
            if (!entered.insert(child.ref).second)
                img.corrupt(shown(child_path) + ": directory reached twice (a directory loop)");
            pending.emplace_back(std::move(child_path), std::move(inode));
        }
    }
    std::sort(listing.entries.begin(), listing.entries.end(),
              [](const ImageEntry& a, const ImageEntry& b) { return a.path < b.path; });
    return listing;
}

namespace {

// The inode at `file_path` (no symlinks followed); throws when a part is missing.
// `walked` becomes the path without empty parts ("/usr//bin" -> "usr/bin").
InodePtr find_inode(ImageSource& img, const std::string& file_path, std::string& walked) {
    InodePtr inode = img.read_inode(root_ref(img), "/");
    walked.clear();
    for (const std::string& part : split(file_path, '/')) {
        if (part.empty())
            continue;
        if (!is_dir(*inode))
            img.corrupt(file_path + ": " + shown(walked) + " is not a directory");
        std::vector<Child> children = list_dir(img, *inode, walked);
        auto it = std::find_if(children.begin(), children.end(),
                               [&](const Child& c) { return c.name == part; });
        walked = join(walked, part);
        if (it == children.end())
            throw_input(img.name() + ": " + shown(walked) + ": no such file in the image");
        inode = img.read_inode(it->ref, shown(walked));
    }
    return inode;
}

std::string read_file(ImageSource& img, const std::string& file_path, uint64_t max_bytes) {
    const std::string& path = img.name();
    std::string walked;
    InodePtr inode = find_inode(img, file_path, walked);
    walked = shown(walked);
    if (inode->base.type != SQFS_INODE_FILE && inode->base.type != SQFS_INODE_EXT_FILE)
        throw_input(path + ": " + walked + ": not a regular file in the image");
    sqfs_u64 file_size = 0;
    sqfs_inode_get_file_size(inode.get(), &file_size);
    if (file_size > max_bytes)
        throw_input(path + ": " + walked + ": " + std::to_string(file_size) +
                    " bytes, more than the " + std::to_string(max_bytes) + " allowed");
    std::string out(file_size, '\0');
    uint64_t done = 0;
    while (done < file_size) {
        sqfs_u32 chunk = static_cast<sqfs_u32>(std::min<uint64_t>(file_size - done, 1u << 20));
        sqfs_s32 n = sqfs_data_reader_read(img.data(), inode.get(), done, out.data() + done, chunk);
        if (n < 0)
            img.fail(walked + ": reading data", n);
        if (n == 0)
            img.corrupt(walked + ": data ends after " + std::to_string(done) + " of " +
                        std::to_string(file_size) + " bytes");
        done += static_cast<uint64_t>(n);
    }
    return out;
}

} // namespace

std::string read_image_file(const std::string& path, const std::string& file_path,
                            uint64_t max_bytes, uint64_t offset, uint64_t size) {
    ImageSource img(path, offset, size);
    return read_file(img, file_path, max_bytes);
}

std::string read_image_file(int fd, const std::string& name, const std::string& file_path,
                            uint64_t max_bytes, uint64_t offset, uint64_t size) {
    ImageSource img(fd, name, offset, size);
    return read_file(img, file_path, max_bytes);
}

std::vector<ImageEntry> read_image_dir(int fd, const std::string& name, const std::string& dir_path,
                                       uint64_t offset, uint64_t size) {
    ImageSource img(fd, name, offset, size);
    std::string walked;
    InodePtr dir = find_inode(img, dir_path, walked);
    if (!is_dir(*dir))
        throw_input(name + ": " + shown(walked) + ": not a directory in the image");
    std::vector<ImageEntry> entries;
    for (Child& child : list_dir(img, *dir, walked)) {
        std::string child_path = join(walked, child.name);
        InodePtr inode = img.read_inode(child.ref, shown(child_path));
        entries.push_back(make_entry(img, *inode, child_path));
    }
    return entries;
}

} // namespace sysext::squashfs

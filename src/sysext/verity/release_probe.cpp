#include "sysext/verity/release_probe.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"

#include <sqfs/block.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>
#include <sqfs/xattr.h>
#include <sqfs/xattr_reader.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace sysext::verity {

namespace {

constexpr const char* k_release_dir = "usr/lib/extension-release.d";
constexpr uint64_t k_max_release_size = 64 * 1024;
constexpr uint32_t k_max_xattrs = 4096; // on one inode; more is damage
// Fragment blocks hold the tails of files, so an image has no more of them than
// entries: the image reader's bound (squashfs/reader.hpp, k_max_entries).
constexpr uint32_t k_max_fragments = 1'000'000;

// A read-only sqfs_file_t over a Region; base must stay the first member.
struct RegionFile {
    sqfs_file_t base;
    const Region* region;
    int read_errno; // the first failed read's errno, reported instead of a format error
};

int region_read_at(sqfs_file_t* file, sqfs_u64 offset, void* buffer, size_t size) {
    // libsquashfs calls this from C: errors are returned, never thrown.
    auto* f = reinterpret_cast<RegionFile*>(file);
    const Region& r = *f->region;
    if (offset > r.size || size > r.size - offset)
        return SQFS_ERROR_OUT_OF_BOUNDS;
    errno = 0;
    if (!pread_exact(r.fd, buffer, size, r.offset + offset)) {
        // errno 0: the file ends early, a truncated image the format checks report.
        if (errno != 0 && f->read_errno == 0)
            f->read_errno = errno;
        return SQFS_ERROR_IO;
    }
    return 0;
}
// A failed read is the reason for whatever libsquashfs reports after it.
[[noreturn]] void fail(const RegionFile& file, const std::string& msg) {
    if (file.read_errno != 0) {
        errno = file.read_errno;
        throw_errno(file.region->what);
    }
    throw_verify(msg);
}

int region_write_at(sqfs_file_t*, sqfs_u64, const void*, size_t) {
    return SQFS_ERROR_IO;
}
sqfs_u64 region_get_size(const sqfs_file_t* file) {
    return reinterpret_cast<const RegionFile*>(file)->region->size;
}
int region_truncate(sqfs_file_t*, sqfs_u64) {
    return SQFS_ERROR_IO;
}

struct SqfsDeleter {
    void operator()(void* obj) const { sqfs_destroy(obj); }
};
struct SqfsFree {
    void operator()(void* p) const { sqfs_free(p); }
};
template <typename T> using SqfsPtr = std::unique_ptr<T, SqfsDeleter>;
template <typename T> using SqfsMem = std::unique_ptr<T, SqfsFree>;

std::string unquote(std::string v) {
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        return v.substr(1, v.size() - 2);
    return v;
}

// systemd's parse_boolean() for "false".
bool false_word(const std::string& v) {
    for (const char* w : {"0", "no", "n", "false", "f", "off"})
        if (v == w)
            return true;
    return false;
}

// Whether the inode carries user.extension-release.strict with a false value:
// then systemd takes the release file whatever the image file is named.
bool marked_non_strict(const RegionFile& file, const sqfs_super_t& super, sqfs_compressor_t* cmp,
                       const sqfs_inode_generic_t& inode) {
    sqfs_u32 index = 0xFFFFFFFF;
    if (sqfs_inode_get_xattr_index(&inode, &index) != 0 || index == 0xFFFFFFFF ||
        (super.flags & SQFS_FLAG_NO_XATTRS) || super.xattr_id_table_start == 0xFFFFFFFFFFFFFFFFULL)
        return false;
    auto* sqfs_file = const_cast<sqfs_file_t*>(&file.base);
    SqfsPtr<sqfs_xattr_reader_t> xr(sqfs_xattr_reader_create(0));
    sqfs_xattr_id_t desc{};
    if (!xr || sqfs_xattr_reader_load(xr.get(), &super, sqfs_file, cmp) != 0 ||
        sqfs_xattr_reader_get_desc(xr.get(), index, &desc) != 0 ||
        sqfs_xattr_reader_seek_kv(xr.get(), &desc) != 0 || desc.count > k_max_xattrs)
        fail(file, file.region->what + ": cannot read the xattrs of a release file");
    for (sqfs_u32 i = 0; i < desc.count; ++i) {
        sqfs_xattr_entry_t* raw_key = nullptr;
        if (sqfs_xattr_reader_read_key(xr.get(), &raw_key) != 0)
            fail(file, file.region->what + ": cannot read an xattr key of a release file");
        SqfsMem<sqfs_xattr_entry_t> key(raw_key);
        sqfs_xattr_value_t* raw_value = nullptr;
        if (sqfs_xattr_reader_read_value(xr.get(), key.get(), &raw_value) != 0)
            fail(file, file.region->what + ": cannot read an xattr value of a release file");
        SqfsMem<sqfs_xattr_value_t> value(raw_value);
        // The key comes back with its prefix ("user."), NUL-terminated.
        std::string name(reinterpret_cast<const char*>(key->key));
        if (name == "user.extension-release.strict")
            return false_word(
                std::string(reinterpret_cast<const char*>(value->value), value->size));
    }
    return false;
}

} // namespace

std::string ExtensionRelease::value(const std::string& key) const {
    for (const auto& line : split(content, '\n'))
        if (starts_with(line, key + "="))
            return unquote(line.substr(key.size() + 1));
    return {};
}

std::string image_name_from_path(const std::string& path) {
    std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    for (const char* suffix : {".sysext.raw", ".raw"})
        if (ends_with(base, suffix))
            return base.substr(0, base.size() - std::strlen(suffix));
    return base;
}

ExtensionRelease find_extension_release(const Region& fs, const std::string& image_name) {
    RegionFile file{};
    file.base.base.destroy = [](sqfs_object_t*) {}; // owned by this frame
    file.base.read_at = region_read_at;
    file.base.write_at = region_write_at;
    file.base.get_size = region_get_size;
    file.base.truncate = region_truncate;
    file.region = &fs;
    auto* sqfs_file = &file.base;

    sqfs_super_t super;
    if (sqfs_super_read(&super, sqfs_file) != 0)
        fail(file, fs.what + ": not a squashfs image");
    sqfs_compressor_config_t cfg;
    sqfs_compressor_t* raw_cmp = nullptr;
    if (sqfs_compressor_config_init(&cfg, static_cast<SQFS_COMPRESSOR>(super.compression_id),
                                    super.block_size, SQFS_COMP_FLAG_UNCOMPRESS) != 0 ||
        sqfs_compressor_create(&cfg, &raw_cmp) != 0)
        fail(file, fs.what + ": squashfs compressor " + std::to_string(super.compression_id) +
                       " is not supported");
    SqfsPtr<sqfs_compressor_t> cmp(raw_cmp);
    SqfsPtr<sqfs_dir_reader_t> dirs(sqfs_dir_reader_create(&super, cmp.get(), sqfs_file, 0));
    if (!dirs)
        fail(file, fs.what + ": cannot read the squashfs directory table");

    sqfs_inode_generic_t* raw_inode = nullptr;
    if (sqfs_dir_reader_find_by_path(dirs.get(), nullptr, k_release_dir, &raw_inode) != 0)
        fail(file, fs.what + ": no " + k_release_dir + " directory; not a system extension");
    SqfsMem<sqfs_inode_generic_t> dir_inode(raw_inode);
    if (sqfs_dir_reader_open_dir(dirs.get(), dir_inode.get(), 0) != 0)
        fail(file, fs.what + ": " + k_release_dir + " is not a readable directory");

    std::string prefix = image_name.substr(0, image_name.find_first_of("_+"));
    std::vector<std::string> found, matches, non_strict;
    for (;;) {
        sqfs_dir_entry_t* raw_entry = nullptr;
        int r = sqfs_dir_reader_read(dirs.get(), &raw_entry);
        if (r > 0)
            break;
        if (r < 0)
            fail(file, fs.what + ": cannot read " + k_release_dir);
        SqfsMem<sqfs_dir_entry_t> entry(raw_entry);
        std::string name(reinterpret_cast<const char*>(entry->name), size_t{entry->size} + 1u);
        found.push_back(name);
        if (name == "extension-release." + image_name || name == "extension-release." + prefix)
            matches.push_back(name);
        else if (starts_with(name, "extension-release.") &&
                 (entry->type == SQFS_INODE_FILE || entry->type == SQFS_INODE_EXT_FILE))
            non_strict.push_back(name); // a candidate if its xattr says so (below)
    }
    if (matches.empty()) {
        // As systemd: a release file under another name is taken when it is
        // marked user.extension-release.strict=0 and it is the only such file.
        std::vector<std::string> marked;
        for (const auto& name : non_strict) {
            std::string path = std::string(k_release_dir) + "/" + name;
            if (sqfs_dir_reader_find_by_path(dirs.get(), nullptr, path.c_str(), &raw_inode) != 0)
                fail(file, fs.what + ": cannot open " + quote_untrusted(path));
            SqfsMem<sqfs_inode_generic_t> inode(raw_inode);
            if (marked_non_strict(file, super, cmp.get(), *inode))
                marked.push_back(name);
        }
        if (marked.size() > 1)
            fail(file, fs.what + ": both " + quote_untrusted(marked[0]) + " and " +
                           quote_untrusted(marked[1]) +
                           " are marked user.extension-release.strict=0; systemd refuses two "
                           "candidates");
        if (marked.size() == 1)
            matches = marked;
    }
    if (matches.empty()) {
        std::string msg = fs.what + ": no " + k_release_dir + "/extension-release." + image_name;
        if (prefix != image_name)
            msg += " or extension-release." + prefix;
        msg += " (found:";
        for (const auto& f : found)
            msg += " " + quote_untrusted(f);
        fail(file, msg + (found.empty() ? " nothing)" : ")"));
    }
    if (matches.size() > 1)
        fail(file, fs.what + ": both " + quote_untrusted(matches[0]) + " and " +
                       quote_untrusted(matches[1]) + " exist; systemd refuses two candidates");

    std::string path = std::string(k_release_dir) + "/" + matches[0];
    if (sqfs_dir_reader_find_by_path(dirs.get(), nullptr, path.c_str(), &raw_inode) != 0)
        fail(file, fs.what + ": cannot open " + path);
    SqfsMem<sqfs_inode_generic_t> inode(raw_inode);
    if (inode->base.type != SQFS_INODE_FILE && inode->base.type != SQFS_INODE_EXT_FILE)
        fail(file, fs.what + ": " + path + " is not a regular file");
    sqfs_u64 size = 0;
    sqfs_inode_get_file_size(inode.get(), &size);
    if (size > k_max_release_size)
        fail(file, fs.what + ": " + path + " is implausibly large");
    // libsquashfs allocates the whole fragment table the superblock claims before
    // reading it (a 670-byte image asked for 16 GiB; found by fuzzing): its index
    // must lie in the image, and it must be no larger than an image can need.
    const uint64_t fragment_bytes = uint64_t{super.fragment_entry_count} * sizeof(sqfs_fragment_t);
    const uint64_t fragment_index =
        (fragment_bytes + SQFS_META_BLOCK_SIZE - 1) / SQFS_META_BLOCK_SIZE * sizeof(uint64_t);
    if (super.fragment_entry_count > k_max_fragments)
        fail(file, fs.what + ": squashfs fragment table of " +
                       std::to_string(super.fragment_entry_count) +
                       " entries; an image has at most " + std::to_string(k_max_fragments));
    if (super.fragment_entry_count > 0 && (super.fragment_table_start >= fs.size ||
                                           fragment_index > fs.size - super.fragment_table_start))
        fail(file, fs.what + ": squashfs fragment table of " +
                       std::to_string(super.fragment_entry_count) +
                       " entries does not fit the image");
    SqfsPtr<sqfs_data_reader_t> data(
        sqfs_data_reader_create(sqfs_file, super.block_size, cmp.get(), 0));
    if (!data || sqfs_data_reader_load_fragment_table(data.get(), &super) != 0)
        fail(file, fs.what + ": cannot read the squashfs fragment table");
    ExtensionRelease release;
    release.file_name = matches[0];
    release.content.resize(size);
    if (size > 0 &&
        sqfs_data_reader_read(data.get(), inode.get(), 0, release.content.data(),
                              static_cast<sqfs_u32>(size)) != static_cast<sqfs_s32>(size))
        fail(file, fs.what + ": cannot read " + path);
    return release;
}

} // namespace sysext::verity

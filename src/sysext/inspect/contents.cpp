#include "sysext/inspect/contents.hpp"

#include "sysext/util/sha256.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace sysext::inspect {

namespace {

std::string escaped(const std::string& s) {
    static const char* k_hex = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f || c == '\\') {
            out += "\\x";
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string shown_path(const std::string& path) {
    return path.empty() ? "." : escaped(path);
}

// squashfs and EROFS store device numbers in the kernel's "new" 32-bit encoding.
std::string device_string(uint32_t rdev) {
    uint32_t major = (rdev & 0xfff00) >> 8;
    uint32_t minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
    return std::to_string(major) + "," + std::to_string(minor);
}

std::string octal_mode(uint32_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
    return buf;
}

int depth_of(const std::string& dir) {
    return dir.empty() ? 0 : static_cast<int>(std::count(dir.begin(), dir.end(), '/')) + 1;
}

// Whether this entry's bytes are counted: a file, and the first path of its inode.
bool counts(const image::ImageEntry& e, std::set<uint64_t>& seen_links) {
    if (e.type != 'f')
        return false;
    return e.nlink <= 1 || seen_links.insert(e.inode).second;
}

// The entries in path order, whatever order the caller kept them in.
std::vector<const image::ImageEntry*> by_path(const std::vector<image::ImageEntry>& entries) {
    std::vector<const image::ImageEntry*> sorted;
    sorted.reserve(entries.size());
    for (const auto& e : entries)
        sorted.push_back(&e);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto* a, const auto* b) { return a->path < b->path; });
    return sorted;
}

} // namespace

std::string printable(const std::string& path) {
    return escaped(path);
}

std::string mode_string(const image::ImageEntry& e) {
    std::string s = "?---------";
    s[0] = e.type == 'f' ? '-' : e.type;
    const char* rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; ++i)
        if (e.mode & (0400u >> i))
            s[1 + i] = rwx[i];
    auto special = [&](int pos, uint32_t bit, char set_exec, char set_noexec) {
        if (e.mode & bit)
            s[pos] = s[pos] == 'x' ? set_exec : set_noexec;
    };
    special(3, 04000, 's', 'S');
    special(6, 02000, 's', 'S');
    special(9, 01000, 't', 'T');
    return s;
}

std::string contents_listing(const std::vector<image::ImageEntry>& entries) {
    std::string out;
    for (const auto* p : by_path(entries)) {
        const auto& e = *p;
        out += mode_string(e);
        out += ' ' + std::to_string(e.uid) + ':' + std::to_string(e.gid) + ' ';
        out += (e.type == 'c' || e.type == 'b') ? device_string(e.rdev) : std::to_string(e.size);
        out += ' ' + shown_path(e.path);
        if (e.type == 'l')
            out += " -> " + escaped(e.target);
        out += '\n';
    }
    return out;
}

std::string usage_by_directory(const std::vector<image::ImageEntry>& entries, int max_depth) {
    std::map<std::string, uint64_t> bytes; // directory -> cumulative file bytes
    for (const auto& e : entries)
        if (e.type == 'd' && depth_of(e.path) <= max_depth)
            bytes.emplace(e.path, 0);
    std::set<uint64_t> seen_links;
    for (const auto* p : by_path(entries)) {
        const auto& e = *p;
        if (!counts(e, seen_links))
            continue;
        std::string dir = e.path;
        while (!dir.empty()) {
            size_t slash = dir.rfind('/');
            dir = slash == std::string::npos ? "" : dir.substr(0, slash);
            if (depth_of(dir) <= max_depth)
                bytes[dir] += e.size;
        }
    }
    std::string out;
    for (const auto& [dir, n] : bytes) // std::map: "" (the root) sorts first
        out += std::to_string(n) + '\t' + shown_path(dir) + '\n';
    return out;
}

nlohmann::json contents_json(const std::vector<image::ImageEntry>& entries) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto* p : by_path(entries)) {
        const auto& e = *p;
        nlohmann::json j; // keys sorted: stable output
        j["path"] = e.path;
        j["type"] = std::string(1, e.type);
        j["mode"] = octal_mode(e.mode);
        j["uid"] = e.uid;
        j["gid"] = e.gid;
        j["size"] = e.size;
        j["nlink"] = e.nlink;
        j["inode"] = e.inode;
        if (e.type == 'l')
            j["target"] = e.target;
        if (e.type == 'c' || e.type == 'b')
            j["device"] = device_string(e.rdev);
        if (!e.xattrs.empty()) {
            nlohmann::json x = nlohmann::json::object();
            for (const auto& [name, value] : e.xattrs)
                x[name] = to_hex(value.data(), value.size());
            j["xattrs"] = x;
        }
        out.push_back(std::move(j));
    }
    return out;
}

ContentsTotals contents_totals(const std::vector<image::ImageEntry>& entries) {
    ContentsTotals t;
    std::set<uint64_t> seen_links;
    for (const auto& e : entries) {
        ++t.entries;
        switch (e.type) {
        case 'd':
            ++t.directories;
            break;
        case 'f':
            ++t.files;
            break;
        case 'l':
            ++t.symlinks;
            break;
        default:
            ++t.other;
            break;
        }
        if (counts(e, seen_links))
            t.file_bytes += e.size;
    }
    return t;
}

std::vector<image::ImageEntry> largest_files(const std::vector<image::ImageEntry>& entries,
                                                size_t n) {
    std::vector<image::ImageEntry> files;
    for (const auto& e : entries)
        if (e.type == 'f')
            files.push_back(e);
    std::stable_sort(files.begin(), files.end(),
                     [](const auto& a, const auto& b) { return a.size > b.size; });
    if (files.size() > n)
        files.resize(n);
    return files;
}

} // namespace sysext::inspect

#include "sysext/source/directory.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace sysext::source {

bool storable_xattr(const std::string& key) {
    return starts_with(key, "user.") || starts_with(key, "security.") ||
           starts_with(key, "trusted.");
}

namespace {

class DirectoryScanner {
public:
    DirectoryScanner(tree::Tree& tree, const SourceOptions& options,
                     std::vector<std::string>& problems, Reporter& reporter)
        : m_tree(tree), m_options(options), m_problems(problems), m_reporter(reporter) {}

    void scan(const std::string& disk, const std::string& tree_path) {
        struct stat st;
        if (::lstat(disk.c_str(), &st) != 0)
            throw_errno(disk);
        if (!S_ISDIR(st.st_mode))
            throw_input(disk + ": not a directory");
        m_tree.add(tree_path, make_node(disk, st, tree_path));
        walk(disk, tree_path);
    }

private:
    void walk(const std::string& disk, const std::string& tree_path) {
        DIR* d = ::opendir(disk.c_str());
        if (d == nullptr) {
            m_problems.push_back(disk + ": " + std::strerror(errno));
            return;
        }
        std::vector<std::string> names;
        errno = 0;
        while (dirent* e = ::readdir(d)) {
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
                names.emplace_back(e->d_name);
        }
        int err = errno;
        ::closedir(d);
        if (err != 0)
            throw_errno(disk, err);
        // Sorted, so that hard links resolve to the same first name every time.
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            std::string child_disk = disk + "/" + name;
            std::string child_tree = tree_path.empty() ? name : tree_path + "/" + name;
            struct stat st;
            if (::lstat(child_disk.c_str(), &st) != 0) {
                m_problems.push_back(child_disk + ": " + std::strerror(errno));
                continue;
            }
            auto key = std::make_pair(st.st_dev, st.st_ino);
            if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
                auto it = m_inodes.find(key);
                if (it != m_inodes.end()) {
                    tree::Node link;
                    link.type = tree::NodeType::File;
                    link.hardlink = it->second;
                    link.origin = child_disk;
                    if (it->second->type != tree::NodeType::File) {
                        // squashfs hard links must be regular files here; store a copy.
                        m_tree.add(child_tree, make_node(child_disk, st, child_tree));
                        continue;
                    }
                    m_tree.add(child_tree, std::move(link));
                    continue;
                }
            }
            tree::Node& added = m_tree.add(child_tree, make_node(child_disk, st, child_tree));
            if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
                m_inodes[key] = &added;
            if (S_ISDIR(st.st_mode))
                walk(child_disk, child_tree);
        }
    }

    tree::Node make_node(const std::string& disk, const struct stat& st,
                         const std::string& tree_path) {
        tree::Node n;
        n.origin = disk;
        n.mode = st.st_mode & 07777;
        n.mtime = m_options.mtime;
        if (m_options.keep_owners) {
            n.uid = st.st_uid;
            n.gid = st.st_gid;
        }
        switch (st.st_mode & S_IFMT) {
        case S_IFDIR: n.type = tree::NodeType::Directory; break;
        case S_IFREG:
            n.type = tree::NodeType::File;
            n.content.size = static_cast<uint64_t>(st.st_size);
            n.content.kind = st.st_size ? tree::Content::Kind::Disk : tree::Content::Kind::Empty;
            n.content.disk_path = disk;
            check_readable(disk);
            break;
        case S_IFLNK: n.type = tree::NodeType::Symlink; n.link_target = read_link(disk, st); break;
        case S_IFIFO: n.type = tree::NodeType::Fifo; break;
        case S_IFSOCK: n.type = tree::NodeType::Socket; break;
        case S_IFCHR: n.type = tree::NodeType::CharDevice; n.rdev = st.st_rdev; break;
        case S_IFBLK: n.type = tree::NodeType::BlockDevice; n.rdev = st.st_rdev; break;
        default: m_problems.push_back(disk + ": unknown file type");
        }
        if (m_options.xattrs)
            n.xattrs = read_xattrs(disk, tree_path);
        return n;
    }

    void check_readable(const std::string& disk) {
        int fd = ::open(disk.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            m_problems.push_back(disk + ": " + std::strerror(errno));
            return;
        }
        ::close(fd);
    }

    std::string read_link(const std::string& disk, const struct stat& st) {
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t n = ::readlink(disk.c_str(), target.data(), target.size());
        if (n < 0) {
            m_problems.push_back(disk + ": " + std::strerror(errno));
            return "";
        }
        target.resize(static_cast<size_t>(n));
        return target;
    }

    std::vector<tree::Xattr> read_xattrs(const std::string& disk, const std::string& tree_path) {
        std::vector<tree::Xattr> out;
        ssize_t len = ::llistxattr(disk.c_str(), nullptr, 0);
        if (len <= 0)
            return out; // none, or a file system without xattrs
        std::string names(static_cast<size_t>(len), '\0');
        len = ::llistxattr(disk.c_str(), names.data(), names.size());
        if (len < 0) {
            m_problems.push_back(disk + ": listing xattrs: " + std::strerror(errno));
            return out;
        }
        names.resize(static_cast<size_t>(len));
        for (const auto& key : split(names, '\0')) {
            if (key.empty())
                continue;
            if (!storable_xattr(key)) {
                m_reporter.warn(tree_path + ": xattr " + key +
                                " is not stored (squashfs keeps user.*, security.*, trusted.*)");
                continue;
            }
            ssize_t vlen = ::lgetxattr(disk.c_str(), key.c_str(), nullptr, 0);
            std::string value(vlen > 0 ? static_cast<size_t>(vlen) : 0, '\0');
            if (vlen < 0 || ::lgetxattr(disk.c_str(), key.c_str(), value.data(), value.size()) != vlen) {
                m_problems.push_back(disk + ": reading xattr " + key + ": " + std::strerror(errno));
                continue;
            }
            out.push_back({key, std::move(value)});
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
        return out;
    }

    tree::Tree& m_tree;
    const SourceOptions& m_options;
    std::vector<std::string>& m_problems;
    Reporter& m_reporter;
    std::map<std::pair<dev_t, ino_t>, tree::Node*> m_inodes;
};

} // namespace

void add_directory(tree::Tree& tree, const std::string& dir, const SourceOptions& options,
                   std::vector<std::string>& problems, Reporter& reporter) {
    reporter.stage("scanning " + dir);
    DirectoryScanner(tree, options, problems, reporter).scan(dir, options.prefix);
}

} // namespace sysext::source

// The target base system the extension is merged onto: a root directory read
// lazily (lstat/readlink of one component at a time, so its symlinks are
// followed inside the root, never into the build host), or a listing of paths.
// From a root, /etc/ld.so.conf is read the way ldconfig(8) reads it: one
// directory a line, `include GLOB` relative to the including file's directory,
// `hwcap` lines ignored, comments after '#'.
#include "sysext/validate/elf.hpp"
#include "sysext/validate/elf_view.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

namespace sysext::validate {

namespace {

constexpr int k_max_include_depth = 8;

// Top-level directories that are symlinks into /usr on a merged-/usr system.
const char* const k_merged_usr[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};

std::string trim(std::string_view s) {
    size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos)
        return "";
    size_t e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

// "/lib/x/", "./lib//x" -> "usr/lib/x": relative, no empty components, merged /usr.
std::string normalise_listed(std::string_view line) {
    std::string out;
    size_t start = 0;
    while (start <= line.size()) {
        size_t slash = line.find('/', start);
        if (slash == std::string_view::npos)
            slash = line.size();
        std::string_view part = line.substr(start, slash - start);
        if (!part.empty() && part != ".") {
            if (out.empty() && std::find(std::begin(k_merged_usr), std::end(k_merged_usr), part) !=
                                   std::end(k_merged_usr))
                out = "usr/";
            else if (!out.empty())
                out += '/';
            out += part;
        }
        start = slash + 1;
    }
    return out;
}

struct DirCloser {
    void operator()(DIR* d) const { ::closedir(d); }
};

std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> words;
    size_t i = 0;
    while (i < s.size()) {
        size_t b = s.find_first_not_of(" \t", i);
        if (b == std::string::npos)
            break;
        size_t e = s.find_first_of(" \t", b);
        words.push_back(s.substr(b, e == std::string::npos ? e : e - b));
        i = e == std::string::npos ? s.size() : e;
    }
    return words;
}

// Reads one ld.so.conf file of the base (an absolute path inside it).
void read_ld_conf(const BaseLibraries& base, const std::string& file, int depth,
                  std::vector<std::string>& dirs) {
    if (depth > k_max_include_depth)
        return; // an include loop: ldconfig would recurse forever; stop quietly
    MergedView view(nullptr, &base);
    auto conf = view.find_file(file);
    if (!conf)
        return;
    const std::string text = read_file(base.disk_path(conf->base_path));
    const std::string here = file.substr(0, file.rfind('/'));

    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        std::string line = text.substr(start, nl == std::string::npos ? nl : nl - start);
        start = nl == std::string::npos ? text.size() : nl + 1;
        line = trim(line.substr(0, line.find('#')));
        if (line.empty() || line.rfind("hwcap", 0) == 0)
            continue;
        if (line.rfind("include", 0) == 0 && line.size() > 7 &&
            (line[7] == ' ' || line[7] == '\t')) {
            for (std::string pattern : split_words(line.substr(8))) {
                if (pattern[0] != '/')
                    pattern = here + "/" + pattern;
                // The directory part is a plain path; only the last component is a glob.
                size_t slash = pattern.rfind('/');
                std::string dir = pattern.substr(0, slash), glob = pattern.substr(slash + 1);
                auto found = MergedView(nullptr, &base).find_dir(dir);
                if (!found)
                    continue;
                std::unique_ptr<DIR, DirCloser> d(
                    ::opendir(base.disk_path(found->base_path).c_str()));
                if (!d)
                    continue;
                std::vector<std::string> names;
                while (dirent* ent = ::readdir(d.get()))
                    if (ent->d_name[0] != '.' && ::fnmatch(glob.c_str(), ent->d_name, 0) == 0)
                        names.emplace_back(ent->d_name);
                std::sort(names.begin(), names.end()); // glob(3) order
                for (const auto& n : names)
                    read_ld_conf(base, dir + "/" + n, depth + 1, dirs);
            }
            continue;
        }
        // "DIR=TYPE" is a libc5-era form; the type is irrelevant here.
        std::string dir = line.substr(0, line.find('='));
        while (dir.size() > 1 && dir.back() == '/')
            dir.pop_back();
        if (!dir.empty() && dir[0] == '/' && std::find(dirs.begin(), dirs.end(), dir) == dirs.end())
            dirs.push_back(dir);
    }
}

} // namespace

BaseLibraries BaseLibraries::from_root(const std::string& root_dir) {
    struct stat st;
    if (::stat(root_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw_input(root_dir + ": base root is not a directory");
    BaseLibraries base;
    base.m_root = root_dir;
    while (base.m_root.size() > 1 && base.m_root.back() == '/')
        base.m_root.pop_back();
    base.m_description = "root " + root_dir;
    read_ld_conf(base, "/etc/ld.so.conf", 0, base.m_conf_dirs);
    return base;
}

BaseLibraries BaseLibraries::from_listing(const std::string& listing_file) {
    const std::string text = read_file(listing_file);
    BaseLibraries base;
    base.m_description = "listing " + listing_file;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        std::string line =
            trim(std::string_view(text).substr(start, nl == std::string::npos ? nl : nl - start));
        start = nl == std::string::npos ? text.size() : nl + 1;
        if (line.empty() || line[0] == '#')
            continue;
        std::string path = normalise_listed(line);
        if (path.empty())
            continue;
        base.m_files.insert(path);
        for (size_t slash = path.find('/'); slash != std::string::npos;
             slash = path.find('/', slash + 1))
            base.m_dirs.insert(path.substr(0, slash));
    }
    if (base.m_files.empty())
        throw_input(listing_file + ": base listing names no paths");
    // A directory listed as a path of its own (`find` prints them) is no file.
    for (const auto& d : base.m_dirs)
        base.m_files.erase(d);
    return base;
}

BaseLibraries::Entry BaseLibraries::entry(const std::string& path) const {
    if (m_root.empty()) {
        if (path.find('/') == std::string::npos &&
            std::find(std::begin(k_merged_usr), std::end(k_merged_usr), path) !=
                std::end(k_merged_usr))
            return {Kind::Symlink, "usr/" + path};
        if (m_files.count(path))
            return {Kind::File, ""};
        if (path == "usr" || m_dirs.count(path))
            return {Kind::Directory, ""};
        return {};
    }
    struct stat st;
    const std::string full = disk_path(path);
    if (::lstat(full.c_str(), &st) != 0)
        return {};
    if (S_ISDIR(st.st_mode))
        return {Kind::Directory, ""};
    if (S_ISREG(st.st_mode))
        return {Kind::File, ""};
    if (S_ISLNK(st.st_mode)) {
        std::string target(4096, '\0');
        ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
        if (n <= 0 || static_cast<size_t>(n) >= target.size())
            return {};
        target.resize(static_cast<size_t>(n));
        return {Kind::Symlink, target};
    }
    return {};
}

std::string BaseLibraries::disk_path(const std::string& path) const {
    if (m_root.empty())
        return "";
    if (path.empty())
        return m_root;
    return m_root == "/" ? "/" + path : m_root + "/" + path;
}

bool BaseLibraries::has(const std::string& absolute_path) const {
    return MergedView(nullptr, this).find_file(absolute_path).has_value();
}

} // namespace sysext::validate

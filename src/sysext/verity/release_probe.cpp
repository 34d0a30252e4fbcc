#include "sysext/verity/release_probe.hpp"

#include "sysext/image/reader.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <cstring>
#include <vector>

namespace sysext::verity {

namespace {

constexpr const char* k_release_dir = "usr/lib/extension-release.d";
constexpr uint64_t k_max_release_size = 64 * 1024;

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

// Whether the release file carries user.extension-release.strict with a false
// value: then systemd takes it whatever the image file is named.
bool marked_non_strict(const image::ImageEntry& entry) {
    auto it = entry.xattrs.find("user.extension-release.strict");
    return it != entry.xattrs.end() && false_word(it->second);
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
    // The image is hostile: read with the image readers (squashfs or EROFS, by
    // the magic), which check every size before allocating it (tests/fuzz found
    // several places in libsquashfs that did not).
    std::vector<image::ImageEntry> entries;
    try {
        entries = image::read_image_dir(fs.fd, fs.what, k_release_dir, fs.offset, fs.size);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::Io)
            throw;
        throw_verify(std::string(e.what()) +
                     (std::strstr(e.what(), "no such file") != nullptr ? "; not a system extension"
                                                                        : ""));
    }

    std::string prefix = image_name.substr(0, image_name.find_first_of("_+"));
    std::vector<const image::ImageEntry*> matches, marked;
    std::vector<std::string> found;
    for (const auto& entry : entries) {
        std::string name = entry.path.substr(std::strlen(k_release_dir) + 1);
        found.push_back(name);
        if (name == "extension-release." + image_name || name == "extension-release." + prefix)
            matches.push_back(&entry);
        else if (starts_with(name, "extension-release.") && entry.type == 'f' &&
                 marked_non_strict(entry))
            marked.push_back(&entry); // a candidate only if no name matches (below)
    }
    auto file_name = [](const image::ImageEntry* e) {
        return e->path.substr(e->path.rfind('/') + 1);
    };
    if (matches.empty()) {
        // As systemd: a release file under another name is taken when it is
        // marked user.extension-release.strict=0 and it is the only such file.
        if (marked.size() > 1)
            throw_verify(fs.what + ": both " + quote_untrusted(file_name(marked[0])) + " and " +
                         quote_untrusted(file_name(marked[1])) +
                         " are marked user.extension-release.strict=0; systemd refuses two "
                         "candidates");
        matches = marked;
    }
    if (matches.empty()) {
        std::string msg = fs.what + ": no " + k_release_dir + "/extension-release." + image_name;
        if (prefix != image_name)
            msg += " or extension-release." + prefix;
        msg += " (found:";
        for (const auto& f : found)
            msg += " " + quote_untrusted(f);
        throw_verify(msg + (found.empty() ? " nothing)" : ")"));
    }
    if (matches.size() > 1)
        throw_verify(fs.what + ": both " + quote_untrusted(file_name(matches[0])) + " and " +
                     quote_untrusted(file_name(matches[1])) +
                     " exist; systemd refuses two candidates");

    const image::ImageEntry& entry = *matches[0];
    if (entry.type != 'f')
        throw_verify(fs.what + ": " + entry.path + " is not a regular file");
    if (entry.size > k_max_release_size)
        throw_verify(fs.what + ": " + entry.path + " is implausibly large");
    ExtensionRelease release;
    release.file_name = file_name(&entry);
    try {
        release.content = image::read_image_file(fs.fd, fs.what, entry.path, k_max_release_size,
                                                    fs.offset, fs.size);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::Io)
            throw;
        throw_verify(e.what());
    }
    return release;
}

} // namespace sysext::verity

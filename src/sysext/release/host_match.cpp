#include "sysext/release/host_match.hpp"

#include "sysext/util/strings.hpp"

#include <algorithm>
#include <sys/utsname.h>
#include <vector>

namespace sysext::release {

namespace {

std::string get(const KeyValues& kv, const std::string& key) {
    auto it = kv.find(key);
    return it == kv.end() ? std::string() : it->second;
}

bool contains_word(const std::string& words, const std::string& word) {
    auto list = split_words(words);
    return std::find(list.begin(), list.end(), word) != list.end();
}

HostMatch refuse(std::string why) {
    return {false, std::move(why)};
}
HostMatch accept(std::string why) {
    return {true, std::move(why)};
}

} // namespace

HostMatch match_host(const KeyValues& ext, const KeyValues& host, const std::string& host_arch,
                     const std::string& scope) {
    if (ext.empty())
        return refuse("the image carries no extension-release data");

    const std::string ext_scope = get(ext, "SYSEXT_SCOPE");
    if (!contains_word(ext_scope.empty() ? "system portable" : ext_scope, scope))
        return refuse("SYSEXT_SCOPE=" + quote(ext_scope) + " does not include the host's scope " +
                      quote(scope));

    const std::string arch = get(ext, "ARCHITECTURE");
    if (!arch.empty() && arch != "_any" && arch != host_arch)
        return refuse("ARCHITECTURE=" + arch + ", but the host is " + host_arch);

    const std::string id = get(ext, "ID");
    if (id.empty())
        return refuse("the extension-release file has no ID (use the host's ID or _any)");
    if (id == "_any")
        return accept("ID=_any matches every host");

    const std::string host_id = get(host, "ID");
    const bool id_like = id != host_id && contains_word(get(host, "ID_LIKE"), id);
    // Older systemd (252, Debian 12's) compares ID only: say so with the verdict.
    const std::string like_note =
        id_like ? " (ID matched through the host's ID_LIKE, which systemd 252 and older ignore)"
                : "";
    if (id != host_id && !id_like)
        return refuse(
            "ID=" + id + ", but the host is ID=" + host_id +
            (get(host, "ID_LIKE").empty() ? "" : " (ID_LIKE=" + quote(get(host, "ID_LIKE")) + ")"));

    const std::string host_version = get(host, "VERSION_ID");
    const std::string host_level = get(host, "SYSEXT_LEVEL");
    if (host_version.empty() && host_level.empty())
        return accept("ID matches and the host has neither VERSION_ID nor SYSEXT_LEVEL" +
                      like_note);

    const std::string level = get(ext, "SYSEXT_LEVEL");
    if (!host_level.empty() && !level.empty()) {
        if (level != host_level)
            return refuse("SYSEXT_LEVEL=" + level +
                          ", but the host has SYSEXT_LEVEL=" + host_level);
        return accept("ID and SYSEXT_LEVEL match" + like_note);
    }
    if (host_version.empty())
        return accept("ID matches; the host has no VERSION_ID" + like_note);
    const std::string version = get(ext, "VERSION_ID");
    if (version.empty())
        return refuse(
            "the image has no VERSION_ID to compare with the host's VERSION_ID=" + host_version +
            " (a SYSEXT_LEVEL is compared instead only when both sides carry one)");
    if (version != host_version)
        return refuse("VERSION_ID=" + version + ", but the host has VERSION_ID=" + host_version);
    return accept("ID and VERSION_ID match" + like_note);
}

std::string running_architecture() {
    struct utsname u {};
    if (::uname(&u) != 0)
        return "";
    const std::string m = u.machine;
    static const std::pair<const char*, const char*> k_names[] = {
        {"x86_64", "x86-64"},   {"aarch64", "arm64"},
        {"i686", "x86"},        {"i586", "x86"},
        {"i386", "x86"},        {"armv7l", "arm"},
        {"riscv64", "riscv64"}, {"ppc64le", "ppc64-le"},
        {"s390x", "s390x"},     {"loongarch64", "loongarch64"},
    };
    for (const auto& [machine, name] : k_names)
        if (m == machine)
            return name;
    return m;
}

} // namespace sysext::release

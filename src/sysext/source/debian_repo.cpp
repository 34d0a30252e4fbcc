// Fetching a suite's signed indices and its packages (see debian_repo.hpp).
#include "sysext/source/debian_repo.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <ctime>

namespace sysext::source {

namespace {

// InRelease of the whole Debian archive is about 200 KB; this leaves room.
constexpr uint64_t k_max_inrelease = uint64_t{32} << 20;

const std::vector<std::string>& debian_architectures() {
    static const std::vector<std::string> archs{"amd64", "arm64",    "armel",   "armhf",
                                                "i386",  "mips64el", "ppc64el", "riscv64",
                                                "s390x", "loong64"};
    return archs;
}

} // namespace

void check_debian_architecture(const std::string& arch) {
    const auto& archs = debian_architectures();
    if (std::find(archs.begin(), archs.end(), arch) != archs.end())
        return;
    std::string msg = "unknown Debian architecture " + quote(arch);
    if (auto near = nearest(arch, archs); !near.empty())
        msg += " (did you mean " + quote(near) + "?)";
    else if (arch == "x86-64" || arch == "x86_64")
        msg += " (did you mean \"amd64\"?)";
    else if (arch == "aarch64")
        msg += " (did you mean \"arm64\"?)";
    throw_usage(msg);
}

DebianRepo::DebianRepo(DebianRepoOptions options, Fetcher& fetcher)
    : m_options(std::move(options)), m_fetcher(fetcher), m_index(m_options.architecture) {
    while (!m_options.mirror.empty() && m_options.mirror.back() == '/')
        m_options.mirror.pop_back();
    if (m_options.mirror.empty())
        throw_usage("no Debian mirror given");
    if (m_options.suite.empty() || m_options.suite.find('/') != std::string::npos)
        throw_usage("bad Debian suite " + quote(m_options.suite));
    check_debian_architecture(m_options.architecture);
}

std::string DebianRepo::dists_url(const std::string& path) const {
    return m_options.mirror + "/dists/" + m_options.suite + "/" + path;
}

void DebianRepo::load() {
    const std::string inrelease_url = dists_url("InRelease");
    std::string inrelease;
    try {
        inrelease = m_fetcher.fetch_unpinned(inrelease_url, k_max_inrelease);
    } catch (const HttpStatusError& e) {
        // The mirror answers, but not for this suite: a wrong name, not a failing system.
        if (e.status() != 404 && e.status() != 410)
            throw;
        throw_input("no suite " + quote(m_options.suite) + " on this mirror (" + e.what() + ")");
    }
    std::string signed_text = verify_inrelease(inrelease, m_options.keyring, inrelease_url);
    m_release = parse_release(signed_text, inrelease_url);
    check_valid_until(m_release, static_cast<int64_t>(std::time(nullptr)), inrelease_url);
    // A correctly signed Release of another suite (an old one, say) must not
    // stand in for the one asked for.
    if (m_release.suite != m_options.suite && m_release.codename != m_options.suite)
        throw_verify(inrelease_url + ": describes suite " + quote(m_release.suite) + " (codename " +
                     quote(m_release.codename) + "), not " + quote(m_options.suite));
    if (!m_release.architectures.empty() &&
        std::find(m_release.architectures.begin(), m_release.architectures.end(),
                  m_options.architecture) == m_release.architectures.end())
        throw_input(inrelease_url + ": suite " + quote(m_options.suite) + " has no architecture " +
                    quote(m_options.architecture));

    for (const auto& component : m_options.components) {
        // binary-all holds the Architecture: all packages, unless the Release
        // says the architecture's own index lists them (Debian's case).
        std::vector<std::string> archs{m_options.architecture};
        if (!m_release.all_in_arch_indices)
            archs.push_back("all");
        for (const auto& arch : archs) {
            const std::string base = component + "/binary-" + arch + "/Packages";
            const IndexFile* entry = nullptr;
            std::string path;
            for (const char* ext : {".xz", ".gz", ""}) {
                auto it = m_release.sha256.find(base + ext);
                if (it != m_release.sha256.end()) {
                    entry = &it->second;
                    path = it->first;
                    break;
                }
            }
            if (!entry && arch == m_options.architecture)
                throw_input(inrelease_url + ": lists no " + base + " index");
            if (!entry)
                continue;
            m_index.add(read_index_file(fetch_index(path, *entry).path, dists_url(path),
                                        m_options.max_index_size),
                        dists_url(path));
        }
    }
}

FetchResult DebianRepo::fetch_index(const std::string& path, const IndexFile& entry) {
    const std::string plain = dists_url(path);
    if (!m_release.acquire_by_hash)
        return m_fetcher.fetch(plain, entry.sha256, entry.size);
    // By-hash names never change under a reader while the mirror updates; a
    // mirror that lacks one still has the plain name, pinned all the same.
    auto slash = path.rfind('/');
    const std::string by_hash =
        dists_url(path.substr(0, slash) + "/by-hash/SHA256/" + entry.sha256);
    try {
        return m_fetcher.fetch(by_hash, entry.sha256, entry.size);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Io)
            throw;
        return m_fetcher.fetch(plain, entry.sha256, entry.size);
    }
}

FetchResult DebianRepo::download(const DebPackage& p) {
    return m_fetcher.fetch(url_of(p), p.sha256, p.size);
}

} // namespace sysext::source

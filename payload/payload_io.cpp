#include "payload/payload_io.hpp"

#include "sysext/util/error.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace sysext::payload {

namespace {
constexpr size_t k_piece = 1024 * 1024;
}

Fd unlinked_temp_file_near(const std::string& path) {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return Fd(fd);
    // Some file systems have no O_TMPFILE: make a named file and unlink it at once.
    std::string name = dir + "/.sysext-payload-blobs.XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0)
        throw_errno(dir + ": cannot create a temporary file");
    ::unlink(name.c_str());
    return Fd(fd);
}

void copy_range_hashed(int from, uint64_t offset, uint64_t size, int to, Sha256& hasher,
                       const std::string& what) {
    std::vector<char> buf(k_piece);
    uint64_t done = 0;
    while (done < size) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done));
        size_t got = pread_full(from, buf.data(), want, static_cast<off_t>(offset + done), what);
        if (got != want)
            throw_input(what + ": unexpected end of file");
        hasher.update(buf.data(), got);
        write_all(to, buf.data(), got, what);
        done += got;
    }
}

sysext::Digest hash_prefix(int fd, uint64_t size, const std::string& what) {
    Sha256 hasher;
    std::vector<char> buf(k_piece);
    uint64_t done = 0;
    while (done < size) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done));
        size_t got = pread_full(fd, buf.data(), want, static_cast<off_t>(done), what);
        if (got != want)
            throw_verify(what + ": unexpected end of file after " + std::to_string(done + got) +
                         " bytes");
        hasher.update(buf.data(), got);
        done += got;
    }
    return hasher.finish();
}

} // namespace sysext::payload

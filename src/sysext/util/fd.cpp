#include "sysext/util/fd.hpp"

#include "sysext/util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sysext {

void Fd::reset() {
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

Fd open_or_throw(const std::string& path, int flags, int mode) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0)
        throw_errno(path);
    return Fd(fd);
}

void write_all(int fd, const void* data, size_t size, const std::string& what) {
    auto* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno(what);
        }
        p += n;
        size -= static_cast<size_t>(n);
    }
}

void pwrite_all(int fd, const void* data, size_t size, uint64_t offset, const std::string& what) {
    if (!pwrite_exact(fd, data, size, offset))
        throw_errno(what);
}

size_t pread_full(int fd, void* data, size_t size, off_t offset, const std::string& what) {
    auto* p = static_cast<char*>(data);
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd, p + done, size - done, offset + static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno(what);
        }
        if (n == 0)
            break;
        done += static_cast<size_t>(n);
    }
    return done;
}

size_t read_some(int fd, void* data, size_t size, const std::string& what) {
    for (;;) {
        ssize_t n = ::read(fd, data, size);
        if (n >= 0)
            return static_cast<size_t>(n);
        if (errno != EINTR)
            throw_errno(what);
    }
}

namespace {

// Repeats a pread- or pwrite-like call until all size bytes have moved; false
// on an error (errno set) or when a call moves nothing (end of file).
template <typename Byte, typename Call>
bool move_exact(Call call, int fd, Byte* p, size_t size, uint64_t offset) noexcept {
    while (size > 0) {
        ssize_t n = call(fd, p, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        offset += static_cast<uint64_t>(n);
        size -= static_cast<size_t>(n);
    }
    return true;
}

} // namespace

bool pread_exact(int fd, void* data, size_t size, uint64_t offset) noexcept {
    return move_exact(::pread, fd, static_cast<char*>(data), size, offset);
}

bool pwrite_exact(int fd, const void* data, size_t size, uint64_t offset) noexcept {
    return move_exact(::pwrite, fd, static_cast<const char*>(data), size, offset);
}

uint64_t file_size(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        throw_errno(path);
    return static_cast<uint64_t>(st.st_size);
}

namespace {

std::string read_to_end(int fd, const std::string& path, uint64_t max_bytes, ErrorKind kind) {
    std::string out;
    char buf[65536];
    while (size_t n = read_some(fd, buf, sizeof buf, path)) {
        if (out.size() + n > max_bytes)
            throw Error(kind, path + ": larger than " + std::to_string(max_bytes) +
                                  " bytes, the limit for this file");
        out.append(buf, n);
    }
    return out;
}

} // namespace

std::string read_file(const std::string& path, uint64_t max_bytes) {
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    return read_to_end(fd.get(), path, max_bytes, ErrorKind::Input);
}

std::string read_regular_file(const std::string& path, uint64_t max_bytes, ErrorKind kind) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw_errno(path);
    if (!S_ISREG(st.st_mode))
        throw Error(kind, path + ": not a regular file");
    if (static_cast<uint64_t>(st.st_size) > max_bytes)
        throw Error(kind, path + ": " + std::to_string(st.st_size) + " bytes; the limit for this file is " +
                              std::to_string(max_bytes));
    return read_to_end(fd.get(), path, max_bytes, kind);
}

} // namespace sysext

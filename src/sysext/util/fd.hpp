// A move-only owner of a file descriptor.
#pragma once

#include "sysext/util/error.hpp"

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <utility>

namespace sysext {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) {}
    Fd(Fd&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            m_fd = std::exchange(o.m_fd, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    int release() { return std::exchange(m_fd, -1); }
    void reset();

private:
    int m_fd = -1;
};

// open(2) that throws "<path>: <cause>" on failure.
Fd open_or_throw(const std::string& path, int flags, int mode = 0);
// Writes all of [data, data+size) at the current position, retrying short writes.
void write_all(int fd, const void* data, size_t size, const std::string& what);
// Writes all of [data, data+size) at offset, retrying short writes.
void pwrite_all(int fd, const void* data, size_t size, uint64_t offset, const std::string& what);
// Reads up to size bytes at offset, retrying short reads; returns bytes read (< size at EOF).
size_t pread_full(int fd, void* data, size_t size, off_t offset, const std::string& what);
// One read(2) of up to size bytes, repeated when a signal interrupts it; returns
// the bytes read, 0 at end of file.
size_t read_some(int fd, void* data, size_t size, const std::string& what);
// Reads exactly size bytes at offset, retrying short reads. Never throws, for
// callbacks from C libraries: false on an error (errno set) or at end of file.
bool pread_exact(int fd, void* data, size_t size, uint64_t offset) noexcept;
// Writes exactly size bytes at offset, retrying short writes. Never throws, for
// callbacks from C libraries: false on an error (errno set).
bool pwrite_exact(int fd, const void* data, size_t size, uint64_t offset) noexcept;
// The size of the open file fd (named path in errors).
uint64_t file_size(int fd, const std::string& path);
// The most read_file() takes unless told otherwise: profiles, lock files, base
// lists, keys and certificates are far smaller.
inline constexpr uint64_t k_read_file_limit = 64ull << 20;
// Reads a whole small file (configuration, keys, release files); more than
// max_bytes is an Input error naming the limit.
std::string read_file(const std::string& path, uint64_t max_bytes = k_read_file_limit);
// Reads a whole regular file of at most max_bytes, for files that come with
// untrusted data (signature sidecars): a FIFO, a device (a link to /dev/zero)
// or a directory is refused without reading or waiting, as is a larger file.
// Errors are of `kind` (Verify for sidecars), naming the path and the limit.
std::string read_regular_file(const std::string& path, uint64_t max_bytes, ErrorKind kind);

} // namespace sysext

// File helpers the payload writer, signer and verifier share.
#pragma once

#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"

#include <cstdint>
#include <string>

namespace sysext::payload {

// A temporary file in the directory of `path` that has no name (O_TMPFILE, or
// created and unlinked at once): it vanishes with its descriptor, whatever happens.
Fd unlinked_temp_file_near(const std::string& path);

// Copies [offset, offset + size) of `from` to the current position of `to`,
// adding the bytes to `hasher` on the way, in bounded memory.
void copy_range_hashed(int from, uint64_t offset, uint64_t size, int to, Sha256& hasher,
                       const std::string& what);

// SHA-256 of [0, size) of a file, read in pieces.
sysext::Digest hash_prefix(int fd, uint64_t size, const std::string& what);

} // namespace sysext::payload

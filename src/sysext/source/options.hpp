// How a source's entries are turned into tree nodes.
#pragma once

#include <cstdint>
#include <string>

namespace sysext::source {

struct SourceOptions {
    bool keep_owners = false; // otherwise every entry is root:root
    bool xattrs = true;       // keep user.*, security.* and trusted.* attributes
    uint32_t mtime = 0;       // every entry's modification time
    std::string prefix;       // install the source's entries below this tree path
    // Archives: refuse content larger than max(1 GiB, ratio x the archive's size),
    // and never more than max_content_bytes or max_entries (decompression bombs).
    uint64_t max_expand_ratio = 100;
    uint64_t max_content_bytes = 64ull << 30;
    uint64_t max_entries = 4'000'000;
    // Archives: when set, file contents are read in the first pass and kept in
    // this directory, named by their SHA-256 (paths from the archive never name
    // a file on disk), so that they can be read again and at random. When empty,
    // contents stream from the archive once, in the writer's order.
    std::string blob_dir;
};

// squashfs stores only these xattr namespaces.
bool storable_xattr(const std::string& key);

} // namespace sysext::source

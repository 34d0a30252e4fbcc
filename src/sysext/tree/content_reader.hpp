// Reads the bytes of a regular file in the tree, wherever they come from.
#pragma once

#include "sysext/tree/tree.hpp"

#include <functional>

namespace sysext::tree {

using ByteSink = std::function<void(const void* data, size_t size)>;

// Contents that can only be read in a stream (an archive's entries), by the
// entry's position in that stream. Implementations may be asked for entries in
// any order and must deliver each exactly once.
class StreamedContent {
public:
    virtual ~StreamedContent() = default;
    virtual void read(uint64_t index, const ByteSink& sink) = 0;
};

// Streams a File node's content into sink in pieces of at most 1 MiB. Throws
// Input or Io naming the entry's origin if it cannot be read or its size changed.
void read_content(const Node& file, const ByteSink& sink);

// Reads a small file's content into memory and makes the node hold it inline,
// so that it can be read again (stream entries can be read only once).
const std::string& materialize(Node& file, uint64_t max_size);

} // namespace sysext::tree

#include "sysext/tree/content_reader.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <fcntl.h>
#include <memory>
#include <vector>

namespace sysext::tree {

namespace {
constexpr size_t k_chunk = 1 << 20;

void read_disk(const Node& file, const ByteSink& sink) {
    const Content& c = file.content;
    // O_NOFOLLOW: the scan saw a regular file; never follow a link swapped in since.
    Fd fd = open_or_throw(c.disk_path, O_RDONLY | O_NOFOLLOW);
    // Not zero-filled: a std::vector per file cost a memset of the whole
    // tree's size on top of reading it.
    std::unique_ptr<char[]> buffer(new char[k_chunk]);
    char* buf = buffer.get();
    uint64_t total = 0;
    while (size_t n = read_some(fd.get(), buf, k_chunk, c.disk_path)) {
        total += n;
        if (total > c.size)
            break;
        sink(buf, n);
    }
    if (total != c.size)
        throw_input(c.disk_path + ": file changed while it was being packed (size was " +
                    std::to_string(c.size) + ")");
}
} // namespace

void read_content(const Node& file, const ByteSink& sink) {
    const Content& c = file.content;
    switch (c.kind) {
    case Content::Kind::Empty:
        return;
    case Content::Kind::Inline:
        for (size_t off = 0; off < c.bytes->size(); off += k_chunk)
            sink(c.bytes->data() + off, std::min(k_chunk, c.bytes->size() - off));
        return;
    case Content::Kind::Disk:
        read_disk(file, sink);
        return;
    case Content::Kind::Stream: {
        // Stopped as soon as a stream gives more than the entry's size: a
        // hostile header must not feed the image (or a disk) without end.
        uint64_t total = 0;
        auto wrong_size = [&] {
            throw_input(file.origin + ": entry holds " +
                        std::string(total > c.size ? "more than " : "") +
                        std::to_string(total > c.size ? c.size : total) +
                        " bytes, its header says " + std::to_string(c.size));
        };
        c.stream->read(c.stream_index, [&](const void* data, size_t size) {
            total += size;
            if (total > c.size)
                wrong_size();
            sink(data, size);
        });
        if (total != c.size)
            wrong_size();
        return;
    }
    }
}

const std::string& materialize(Node& file, uint64_t max_size) {
    Node& n = file.hardlink ? *file.hardlink : file;
    if (n.content.kind != Content::Kind::Inline) {
        if (n.content.size > max_size)
            throw_input(n.path() + ": larger than " + std::to_string(max_size) + " bytes");
        auto bytes = std::make_shared<std::string>();
        read_content(n, [&](const void* p, size_t size) {
            bytes->append(static_cast<const char*>(p), size);
        });
        n.content = {Content::Kind::Inline, "", bytes, nullptr, 0, bytes->size()};
    }
    return *n.content.bytes;
}

} // namespace sysext::tree

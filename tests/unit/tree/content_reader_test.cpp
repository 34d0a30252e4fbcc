// Reading a node's content: a stream that gives more than its entry's size is
// stopped at once, not read to its end.
#include "sysext/tree/content_reader.hpp"
#include "sysext/tree/tree.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace sysext::tree {

namespace {

// An endless stream of 4 KiB pieces; counts how many it gave.
class EndlessStream : public StreamedContent {
public:
    void read(uint64_t, const ByteSink& sink) override {
        const std::string piece(4096, 'z');
        for (;;) {
            ++pieces;
            sink(piece.data(), piece.size());
        }
    }
    int pieces = 0;
};

Node streamed(std::shared_ptr<StreamedContent> stream, uint64_t size) {
    Node n;
    n.type = NodeType::File;
    n.origin = "hostile.tar: usr/x";
    n.content.kind = Content::Kind::Stream;
    n.content.stream = std::move(stream);
    n.content.size = size;
    return n;
}

} // namespace

TEST(ContentReader, StreamLongerThanItsSizeIsStoppedAtOnce) {
    auto stream = std::make_shared<EndlessStream>();
    Node n = streamed(stream, 10000);
    uint64_t delivered = 0;
    try {
        read_content(n, [&](const void*, size_t size) { delivered += size; });
        FAIL() << "read an endless stream";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_STREQ(e.what(), "hostile.tar: usr/x: entry holds more than 10000 bytes, its "
                               "header says 10000");
    }
    EXPECT_EQ(stream->pieces, 3);
    EXPECT_EQ(delivered, 8192u);
}

} // namespace sysext::tree

// bzip2 through libbz2, the way update_engine uses it: one stream per operation,
// block size 9 (900k), default work factor.
#pragma once

#include "sysext/util/error.hpp"

#include <bzlib.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace sysext::payload {

// Compresses `input` into `out`. Returns false when bzip2 would not make it
// smaller, in which case the chunk is stored raw and `out` holds nothing useful.
bool bzip2_compress_if_smaller(std::string_view input, std::string& out);

// What decides bzip2_compress_if_smaller's result besides the input (settings,
// libbz2's version), for keys of the block cache.
std::string bzip2_cache_context();

// Corrupt or truncated bzip2 data (a Verify error).
class Bzip2Error : public Error {
public:
    explicit Bzip2Error(const std::string& what) : Error(ErrorKind::Verify, what) {}
};

// Streaming decompression of one bzip2 stream, in bounded memory. Throws
// Bzip2Error describing the fault on corrupt or truncated data.
class Bzip2Decoder {
public:
    using Sink = std::function<void(const char* data, size_t size)>;

    Bzip2Decoder();
    Bzip2Decoder(const Bzip2Decoder&) = delete;
    Bzip2Decoder& operator=(const Bzip2Decoder&) = delete;
    ~Bzip2Decoder();

    // Decompresses the next piece of the stream, passing output to `sink`.
    void feed(const char* data, size_t size, const Sink& sink);
    // Throws when the stream did not end exactly at the end of the input.
    void finish() const;

private:
    bz_stream m_stream{};
    bool m_ended = false;
};

} // namespace sysext::payload

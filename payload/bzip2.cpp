#include "payload/bzip2.hpp"

#include "sysext/util/error.hpp"

#include <vector>

namespace sysext::payload {

namespace {

constexpr int k_block_size_100k = 9; // bzip2 -9, as update_engine compresses
constexpr size_t k_output_piece = 256 * 1024;

std::string bz_error_name(int rc) {
    switch (rc) {
    case BZ_DATA_ERROR:
        return "corrupt bzip2 data";
    case BZ_DATA_ERROR_MAGIC:
        return "not bzip2 data (bad magic)";
    case BZ_MEM_ERROR:
        return "out of memory in bzip2";
    case BZ_PARAM_ERROR:
        return "bzip2 parameter error";
    default:
        return "bzip2 error " + std::to_string(rc);
    }
}

} // namespace

bool bzip2_compress_if_smaller(std::string_view input, std::string& out) {
    // An output buffer as large as the input: if the compressed form does not fit
    // strictly inside it, the chunk is stored raw anyway.
    out.resize(input.size());
    auto out_len = static_cast<unsigned>(out.size());
    int rc = BZ2_bzBuffToBuffCompress(out.data(), &out_len, const_cast<char*>(input.data()),
                                      static_cast<unsigned>(input.size()), k_block_size_100k, 0,
                                      0);
    if (rc == BZ_OUTBUFF_FULL)
        return false;
    if (rc != BZ_OK)
        throw Error(ErrorKind::Internal, "bzip2 compression failed: " + bz_error_name(rc));
    if (out_len >= input.size())
        return false;
    out.resize(out_len);
    return true;
}

std::string bzip2_cache_context() {
    return "sysext-build payload chunk v1;bzip2 block=" + std::to_string(k_block_size_100k) +
           ";work=0;lib=" + BZ2_bzlibVersion();
}

Bzip2Decoder::Bzip2Decoder() {
    int rc = BZ2_bzDecompressInit(&m_stream, 0, 0);
    if (rc != BZ_OK)
        throw Error(ErrorKind::Internal, "cannot start bzip2 decompression: " + bz_error_name(rc));
}

Bzip2Decoder::~Bzip2Decoder() { BZ2_bzDecompressEnd(&m_stream); }

void Bzip2Decoder::feed(const char* data, size_t size, const Sink& sink) {
    if (size == 0)
        return;
    if (m_ended)
        throw Bzip2Error("data continues after the end of the bzip2 stream");
    std::vector<char> piece(k_output_piece);
    m_stream.next_in = const_cast<char*>(data);
    m_stream.avail_in = static_cast<unsigned>(size);
    for (;;) {
        m_stream.next_out = piece.data();
        m_stream.avail_out = static_cast<unsigned>(piece.size());
        int rc = BZ2_bzDecompress(&m_stream);
        if (rc != BZ_OK && rc != BZ_STREAM_END)
            throw Bzip2Error(bz_error_name(rc));
        size_t produced = piece.size() - m_stream.avail_out;
        if (produced > 0)
            sink(piece.data(), produced);
        if (rc == BZ_STREAM_END) {
            m_ended = true;
            break;
        }
        // A piece left unfilled with no input left means nothing is pending.
        if (m_stream.avail_in == 0 && m_stream.avail_out > 0)
            break;
    }
    if (m_ended && m_stream.avail_in > 0)
        throw Bzip2Error("data continues after the end of the bzip2 stream");
}

void Bzip2Decoder::finish() const {
    if (!m_ended)
        throw Bzip2Error("the bzip2 stream is truncated");
}

} // namespace sysext::payload

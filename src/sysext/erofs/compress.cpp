#include "sysext/erofs/compress.hpp"

#include "sysext/erofs/format.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <lz4.h>
#include <lz4hc.h>
#include <lzma.h>
#include <memory>
#include <zstd.h>
#include <zstd_errors.h>

namespace sysext::erofs {

namespace {

// The most input one extent takes: 256 lclusters, well below the 2048 that
// a NONHEAD's 11-bit distance allows and the kernel's 12 MiB limit.
constexpr size_t k_max_extent_input = 1 << 20;

// liblz4's HC state, one per thread.
void* hc_state() {
    thread_local std::unique_ptr<char[]> state(new char[static_cast<size_t>(LZ4_sizeofStateHC())]);
    return state.get();
}

// zstd's compression context, one per thread.
ZSTD_CCtx* zstd_context() {
    struct Free {
        void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
    };
    thread_local std::unique_ptr<ZSTD_CCtx, Free> cctx(ZSTD_createCCtx());
    if (!cctx)
        throw Error(ErrorKind::Internal, "zstd: cannot allocate a compression context");
    return cctx.get();
}

// One zstd frame of the first `in` bytes into at most `target` bytes: its
// size, 0 when it does not fit.
size_t zstd_frame(ZSTD_CCtx* cctx, const uint8_t* src, size_t in, char* dst, size_t target) {
    const size_t n = ZSTD_compress2(cctx, dst, target, src, in);
    if (!ZSTD_isError(n))
        return n;
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
        return 0;
    throw Error(ErrorKind::Internal, std::string("zstd: ") + ZSTD_getErrorName(n));
}

// zstd has no "as much as fits" function: search the longest input whose
// frame fits. Each try either fits (a lower bound) or not (an upper bound);
// the next length follows from the last ratio while that helps, else halves
// the interval. It stops once a fit leaves less than 1/64 of the target
// unused or the bounds are within 1/256 of each other, which gives away
// little and keeps the number of tries small. The result depends only on
// the bytes and the settings. ratio (input per output byte of the extent
// before, 0: none yet) makes the first guess; it is updated for the next.
int zstd_dest(const Compression& c, uint32_t pcluster, const uint8_t* src, size_t size, char* dst,
              int target, int& consumed, double& ratio) {
    ZSTD_CCtx* cctx = zstd_context();
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, c.level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, static_cast<int>(zstd_window_log(pcluster)));
    thread_local std::vector<char> scratch;
    scratch.resize(static_cast<size_t>(target));
    const size_t cap = static_cast<size_t>(target);
    size_t fits = 0, fit_bytes = 0;  // the longest input known to fit, and its frame's size
    size_t too_long = size + 1;      // the shortest input known not to fit
    size_t next = std::min(size, ratio > 0 ? static_cast<size_t>(ratio * static_cast<double>(cap))
                                           : cap * 4);
    while (next > fits && next < too_long) {
        const size_t n = zstd_frame(cctx, src, next, scratch.data(), cap);
        if (n) {
            fits = next;
            fit_bytes = n;
            std::copy_n(scratch.data(), n, dst);
            if (too_long == fits + 1 || (cap - n) * 64 < cap)
                break;
            next = std::max(fits + 1, static_cast<size_t>(static_cast<double>(fits) * cap / n));
        } else {
            too_long = next;
            next = fits + (too_long - fits) / 2;
        }
        if ((too_long - fits) * 256 < too_long)
            break;
        next = std::min(next, too_long - 1);
    }
    consumed = static_cast<int>(fits);
    if (fit_bytes)
        ratio = static_cast<double>(fits) / static_cast<double>(fit_bytes);
    return static_cast<int>(fit_bytes);
}

// liblzma's stream, one per thread (its allocations are reused).
lzma_stream& lzma_state() {
    struct Stream {
        lzma_stream s = LZMA_STREAM_INIT;
        ~Stream() { lzma_end(&s); }
    };
    thread_local Stream stream;
    return stream.s;
}

// MicroLZMA encodes as much input as fits into the output buffer.
int lzma_dest(const Compression& c, uint32_t pcluster, const uint8_t* src, size_t size, char* dst,
              int target, int& consumed) {
    lzma_options_lzma opt;
    if (lzma_lzma_preset(&opt, static_cast<uint32_t>(c.level)))
        throw Error(ErrorKind::Internal, "liblzma: no preset " + std::to_string(c.level));
    opt.dict_size = lzma_dict_size(pcluster);
    lzma_stream& s = lzma_state();
    if (lzma_microlzma_encoder(&s, &opt) != LZMA_OK)
        throw Error(ErrorKind::Internal, "liblzma: cannot start the MicroLZMA encoder");
    s.next_in = src;
    s.avail_in = size;
    s.next_out = reinterpret_cast<uint8_t*>(dst);
    s.avail_out = static_cast<size_t>(target);
    if (lzma_code(&s, LZMA_FINISH) != LZMA_STREAM_END) {
        consumed = 0;
        return 0;
    }
    consumed = static_cast<int>(s.total_in);
    return static_cast<int>(s.total_out);
}

// Compresses as much of [src, src+size) as fits in `target` bytes; returns
// the compressed size (0 on failure) and sets consumed. ratio: see zstd_dest.
int compress_dest(const Compression& c, uint32_t pcluster, const uint8_t* src, size_t size,
                  char* dst, int target, int& consumed, double& ratio) {
    int in = static_cast<int>(std::min(size, k_max_extent_input));
    if (c.algorithm == Compression::Algorithm::Zstd)
        return zstd_dest(c, pcluster, src, static_cast<size_t>(in), dst, target, consumed, ratio);
    if (c.algorithm == Compression::Algorithm::Lzma)
        return lzma_dest(c, pcluster, src, static_cast<size_t>(in), dst, target, consumed);
    int ret = 0;
    if (c.algorithm == Compression::Algorithm::Lz4hc)
        ret = LZ4_compress_HC_destSize(hc_state(), reinterpret_cast<const char*>(src), dst, &in,
                                       target, c.level);
    else
        ret = LZ4_compress_destSize(reinterpret_cast<const char*>(src), dst, &in, target);
    consumed = ret > 0 ? in : 0;
    return ret;
}

} // namespace

Compression Compression::parse(std::string_view spec) {
    Compression c;
    std::string_view name = spec, level;
    if (auto colon = spec.find(':'); colon != std::string_view::npos) {
        name = spec.substr(0, colon);
        level = spec.substr(colon + 1);
    }
    if (name == "none" || name == "lz4") {
        if (!level.empty())
            throw_usage("--compression: " + std::string(name) +
                        " takes no level for EROFS: " + quote(std::string(spec)));
        c.algorithm = name == "none" ? Algorithm::None : Algorithm::Lz4;
        c.level = 0;
        return c;
    }
    // The algorithms that take a level: name, label, least, most, default level.
    struct Leveled {
        std::string_view name, label;
        Algorithm algorithm;
        int least, most, fallback;
    };
    static const Leveled leveled[] = {
        {"lz4hc", "LZ4HC", Algorithm::Lz4hc, 1, LZ4HC_CLEVEL_MAX, 12},
        {"lzma", "LZMA", Algorithm::Lzma, 0, 9, 6},
        {"zstd", "zstd", Algorithm::Zstd, 1, 22, 15},
    };
    const Leveled* l = nullptr;
    for (const auto& candidate : leveled)
        if (candidate.name == name)
            l = &candidate;
    if (!l)
        throw_usage("--compression: EROFS images take none, lz4, lz4hc[:1-12], lzma[:0-9] or "
                    "zstd[:1-22], not " +
                    quote(std::string(spec)));
    c.algorithm = l->algorithm;
    c.level = l->fallback;
    if (!level.empty()) {
        int v = 0;
        for (char ch : level) {
            if (ch < '0' || ch > '9' || v > 100)
                throw_usage("--compression: not a" + std::string(l->label == "LZ4HC" ? "n " : " ") +
                            std::string(l->label) + " level: " + quote(std::string(spec)));
            v = v * 10 + (ch - '0');
        }
        if (v < l->least || v > l->most)
            throw_usage("--compression: " + std::string(l->label) + " levels are " +
                        std::to_string(l->least) + " to " + std::to_string(l->most) + ", not " +
                        std::string(level));
        c.level = v;
    }
    return c;
}

std::string Compression::to_string() const {
    switch (algorithm) {
    case Algorithm::None:
        return "none";
    case Algorithm::Lz4:
        return "lz4";
    case Algorithm::Lz4hc:
        return "lz4hc:" + std::to_string(level);
    case Algorithm::Lzma:
        return "lzma:" + std::to_string(level);
    case Algorithm::Zstd:
        return "zstd:" + std::to_string(level);
    }
    return "";
}

uint8_t Compression::format_id() const {
    switch (algorithm) {
    case Algorithm::Lzma:
        return k_algorithm_lzma;
    case Algorithm::Zstd:
        return k_algorithm_zstd;
    default:
        return k_algorithm_lz4;
    }
}

uint32_t lzma_dict_size(uint32_t pcluster) {
    uint32_t size = 4096;
    while (size < uint64_t{pcluster} * 8)
        size *= 2;
    return size;
}

uint32_t zstd_window_log(uint32_t pcluster) {
    uint32_t log = 10;
    while (log < 20 && (1u << (log + 1)) <= uint64_t{pcluster} * 8)
        ++log;
    return log;
}

uint32_t check_pcluster_size(uint64_t size, std::string_view flag) {
    if (size < k_block || size > k_max_pcluster || size % k_block != 0)
        throw_usage(std::string(flag) + ": a multiple of 4K from 4K to 1M, not " +
                    std::to_string(size));
    return static_cast<uint32_t>(size);
}

namespace {

ExtentData compressed_extent(const std::vector<char>& buf, int n, int consumed) {
    ExtentData e;
    e.length = static_cast<uint32_t>(consumed);
    const uint64_t blocks = blocks_for(static_cast<uint64_t>(n));
    e.blocks.assign(blocks * k_block - static_cast<size_t>(n), '\0');
    e.blocks.append(buf.data(), static_cast<size_t>(n));
    return e;
}

bool saves_a_block(int n, int consumed) {
    return n > 0 &&
           blocks_for(static_cast<uint64_t>(n)) * k_block < static_cast<uint64_t>(consumed);
}

// The end of a file when its compressed form ends in a partly used block:
// a little less input in whole blocks, then the rest, if that compresses
// into less than a block, after the inode (as mkfs.erofs's ztailpacking
// recompresses its trailing pcluster). Empty when that does not work out.
std::vector<ExtentData> split_tail(const Compression& c, uint32_t pcluster, const uint8_t* data,
                                   size_t rest, int n, uint32_t tail_room, double ratio) {
    std::vector<char> head(pcluster), tail(pcluster);
    const uint64_t blocks = blocks_for(static_cast<uint64_t>(n));
    if (blocks < 2)
        return {};
    int c1 = 0;
    const int n1 =
        compress_dest(c, pcluster, data, rest, head.data(), static_cast<int>((blocks - 1) * k_block),
                      c1, ratio);
    if (!saves_a_block(n1, c1) || static_cast<size_t>(c1) >= rest)
        return {};
    int c2 = 0;
    const int n2 = compress_dest(c, pcluster, data + c1, rest - static_cast<size_t>(c1), tail.data(),
                                 static_cast<int>(pcluster), c2, ratio);
    if (n2 <= 0 || static_cast<size_t>(c1 + c2) != rest || n2 >= static_cast<int>(k_block) ||
        n2 >= c2 || n2 > static_cast<int>(tail_room))
        return {};
    std::vector<ExtentData> out;
    out.push_back(compressed_extent(head, n1, c1));
    ExtentData e;
    e.length = static_cast<uint32_t>(c2);
    e.tail = true;
    e.blocks.assign(tail.data(), static_cast<size_t>(n2));
    out.push_back(std::move(e));
    return out;
}

} // namespace

std::vector<ExtentData> compress_segment(const Compression& c, uint32_t pcluster,
                                         const uint8_t* data, size_t size, uint32_t tail_room) {
    std::vector<ExtentData> out;
    std::vector<char> buf(pcluster);
    size_t pos = 0;
    // After an attempt that saved nothing, try one block first: incompressible
    // data then costs one small attempt per block, not a whole pcluster's.
    uint32_t target = pcluster;
    double ratio = 0; // zstd's first guess: see zstd_dest
    while (pos < size) {
        int consumed = 0;
        int n = compress_dest(c, pcluster, data + pos, size - pos, buf.data(),
                              static_cast<int>(target), consumed, ratio);
        const size_t rest = size - pos;
        if (tail_room && n > 0 && static_cast<size_t>(consumed) == rest) {
            if (n < static_cast<int>(k_block) && n < consumed && n <= static_cast<int>(tail_room)) {
                ExtentData e;
                e.length = static_cast<uint32_t>(consumed);
                e.tail = true;
                e.blocks.assign(buf.data(), static_cast<size_t>(n));
                out.push_back(std::move(e));
                break;
            }
            if (n % k_block != 0) {
                auto split = split_tail(c, pcluster, data + pos, rest, n, tail_room, ratio);
                if (!split.empty()) {
                    for (auto& e : split)
                        out.push_back(std::move(e));
                    break;
                }
            }
        }
        if (tail_room && rest < k_block && rest <= tail_room) { // not smaller compressed: as it is
            ExtentData e;
            e.length = static_cast<uint32_t>(rest);
            e.plain = true;
            e.tail = true;
            e.blocks.assign(reinterpret_cast<const char*>(data + pos), rest);
            out.push_back(std::move(e));
            break;
        }
        if (saves_a_block(n, consumed)) {
            out.push_back(compressed_extent(buf, n, consumed));
            pos += static_cast<size_t>(consumed);
            target = pcluster;
            continue;
        }
        size_t length = std::min<size_t>(k_block, size - pos);
        // The kernel maps a file's last extent up to the end of the lcluster
        // the file ends in, and refuses a plain one mapped longer than its
        // block. So a plain end that starts inside one lcluster and reaches
        // into the next stops at their boundary; the rest is an extent of
        // its own. (Only a file's end can be short: segments are whole
        // lclusters otherwise.)
        if (pos + length == size && pos % k_block != 0 && pos / k_block != (size - 1) / k_block)
            length = k_block - pos % k_block;
        ExtentData e;
        e.plain = true;
        e.length = static_cast<uint32_t>(length);
        e.blocks.assign(reinterpret_cast<const char*>(data + pos), length);
        e.blocks.resize(k_block, '\0');
        out.push_back(std::move(e));
        pos += length;
        target = k_block;
    }
    return out;
}

} // namespace sysext::erofs

#include "sysext/erofs/segment_cache.hpp"

#include "sysext/erofs/format.hpp"
#include "sysext/util/sha256.hpp"

#include <cstring>
#include <lz4.h>
#include <lzma.h>
#include <zstd.h>

namespace sysext::erofs {

namespace {

// Bump when anything about how segments are cut or stored changes.
constexpr const char* k_context_version = "sysext-build erofs segment v3";

// 16 KiB of compressible, deterministic text-like bytes.
std::string probe() {
    std::string block(16384, '\0');
    uint32_t state = 0x5eed;
    for (auto& b : block) {
        state = state * 1103515245u + 12345u;
        b = static_cast<char>('a' + (state >> 16) % 12);
    }
    return block;
}

void put(std::string& out, uint32_t v) {
    uint8_t b[4];
    put32(b, v);
    out.append(reinterpret_cast<const char*>(b), 4);
}

bool get(const std::string& in, size_t& at, uint32_t& v) {
    if (in.size() - at < 4)
        return false;
    const auto* p = reinterpret_cast<const uint8_t*>(in.data() + at);
    v = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    at += 4;
    return true;
}

// Whether e's bytes hold exactly [data, data + e.length), as the writer stores them.
bool holds(const ExtentData& e, const uint8_t* data, uint32_t pcluster, const Compression& c) {
    const std::string& b = e.blocks;
    if (e.plain) {
        const size_t want = e.tail ? e.length : k_block;
        if (b.size() != want || e.length > k_block || e.length == 0)
            return false;
        if (std::memcmp(b.data(), data, e.length) != 0)
            return false;
        return b.find_first_not_of('\0', e.length) == std::string::npos;
    }
    // Compressed: leading zeros up to whole blocks (none for a tail), then an
    // LZ4 block, a MicroLZMA stream or a zstd frame.
    if (b.empty() || b.size() > pcluster || e.length == 0)
        return false;
    if (e.tail ? (b.size() >= k_block) : (b.size() % k_block != 0 || b.size() >= e.length))
        return false;
    const size_t start = b.find_first_not_of('\0');
    if (start == std::string::npos || (e.tail && start != 0) || (!e.tail && start >= k_block))
        return false;
    std::string out(e.length, '\0');
    if (c.algorithm == Compression::Algorithm::Zstd) {
        const size_t got = ZSTD_decompress(out.data(), out.size(), b.data() + start, b.size() - start);
        return got == e.length && std::memcmp(out.data(), data, e.length) == 0;
    }
    if (c.algorithm == Compression::Algorithm::Lzma) {
        lzma_stream s = LZMA_STREAM_INIT;
        bool ok = lzma_microlzma_decoder(&s, b.size() - start, e.length, true,
                                         lzma_dict_size(pcluster)) == LZMA_OK;
        if (ok) {
            s.next_in = reinterpret_cast<const uint8_t*>(b.data() + start);
            s.avail_in = b.size() - start;
            s.next_out = reinterpret_cast<uint8_t*>(out.data());
            s.avail_out = out.size();
            ok = lzma_code(&s, LZMA_FINISH) == LZMA_STREAM_END && s.total_out == e.length;
        }
        lzma_end(&s);
        return ok && std::memcmp(out.data(), data, e.length) == 0;
    }
    const int got =
        LZ4_decompress_safe(b.data() + start, out.data(), static_cast<int>(b.size() - start),
                            static_cast<int>(e.length));
    return got == static_cast<int>(e.length) && std::memcmp(out.data(), data, e.length) == 0;
}

} // namespace

std::string serialize_extents(const std::vector<ExtentData>& extents) {
    std::string out;
    put(out, static_cast<uint32_t>(extents.size()));
    for (const auto& e : extents) {
        put(out, e.length);
        put(out, (e.plain ? 1u : 0u) | (e.tail ? 2u : 0u));
        put(out, static_cast<uint32_t>(e.blocks.size()));
        out += e.blocks;
    }
    return out;
}

std::optional<std::vector<ExtentData>> parse_extents(const std::string& value, const uint8_t* data,
                                                     size_t size, uint32_t pcluster,
                                                     const Compression& c) {
    size_t at = 0;
    uint32_t count = 0;
    if (!get(value, at, count) || count > size)
        return std::nullopt;
    std::vector<ExtentData> out;
    uint64_t pos = 0;
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t length = 0, flags = 0, bytes = 0;
        if (!get(value, at, length) || !get(value, at, flags) || !get(value, at, bytes) ||
            flags > 3 || value.size() - at < bytes || length > size - pos)
            return std::nullopt;
        ExtentData e;
        e.length = length;
        e.plain = flags & 1;
        e.tail = flags & 2;
        e.blocks = value.substr(at, bytes);
        at += bytes;
        if ((e.tail && i + 1 != count) || !holds(e, data + pos, pcluster, c))
            return std::nullopt;
        pos += length;
        out.push_back(std::move(e));
    }
    if (at != value.size() || pos != size)
        return std::nullopt;
    return out;
}

SegmentCache::SegmentCache(BlockCache* cache, const Compression& c, uint32_t pcluster)
    : m_cache(cache), m_compression(c), m_pcluster(pcluster) {
    if (!cache)
        return;
    // A library whose output changed under the same version changes the probe's result.
    const std::string p = probe();
    std::vector<ExtentData> probed =
        compress_segment(c, pcluster, reinterpret_cast<const uint8_t*>(p.data()), p.size(), 2048);
    const std::string bytes = serialize_extents(probed);
    m_context = std::string(k_context_version) + ";" + c.to_string() +
                ";pcluster=" + std::to_string(pcluster) + ";lz4=" + LZ4_versionString() +
                ";zstd=" + ZSTD_versionString() + ";lzma=" + lzma_version_string() +
                ";probe=" + to_hex(sha256(bytes.data(), bytes.size()));
}

std::vector<ExtentData> SegmentCache::extents(const uint8_t* data, size_t size,
                                              uint32_t tail_room) const {
    if (!m_cache)
        return compress_segment(m_compression, m_pcluster, data, size, tail_room);
    const std::string context = m_context + ";tail_room=" + std::to_string(tail_room);
    const Digest key = block_cache_key(context, data, size);
    if (auto value = m_cache->get(key)) {
        if (auto parsed = parse_extents(*value, data, size, m_pcluster, m_compression))
            return std::move(*parsed);
        m_cache->reject(key);
    }
    std::vector<ExtentData> out =
        compress_segment(m_compression, m_pcluster, data, size, tail_room);
    m_cache->put(key, serialize_extents(out));
    return out;
}

} // namespace sysext::erofs

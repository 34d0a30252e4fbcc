// Compressed EROFS files, read whole, as the kernel's fs/erofs/zmap.c maps
// them and decompressor.c decodes them.
//
// A map header follows the inode and its xattrs (8-aligned), then one index
// per lcluster (a block of the file): the full form, 8 bytes each after 8
// reserved bytes, or the compact form, packs of 2 entries in 8 bytes or (with
// COMPACTED_2B, from a 32-byte boundary on) 16 in 32 bytes, each pack ending
// in a block address from which a head's address is counted. A HEAD or PLAIN
// lcluster starts an extent at its clusterofs; the extent runs to the next
// one or the end of the file. Its physical cluster is one block, or with
// BIG_PCLUSTER the count the next lcluster holds (CBLKCNT); with ztailpacking
// the last extent lies inline after the indexes. LZ4 extents decompress to
// exactly their length (LZ4_decompress_safe after the leading zeros of
// ZERO_PADDING, else LZ4_decompress_safe_partial); PLAIN ones are copied,
// rotated when INTERLACED. Every index, address and length is checked
// against the image before it is used.
#include "sysext/erofs/read_data.hpp"

#include "sysext/util/endian.hpp"

#include <lz4.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

namespace sysext::erofs {

namespace {

constexpr uint16_t k_advise_compacted_2b = 0x0001;
constexpr uint16_t k_advise_big_pcluster_2 = 0x0004;
constexpr uint16_t k_advise_inline_pcluster = 0x0008;
constexpr uint16_t k_advise_interlaced = 0x0010;
constexpr uint16_t k_known_advise = 0x001F;
constexpr uint8_t k_type_plain = 0, k_type_head1 = 1, k_type_nonhead = 2;
constexpr uint32_t k_lo_bits = 12; // max(lclusterbits, ilog2(CBLKCNT) + 1) for 4 KiB lclusters

struct Lcluster {
    uint8_t type = k_type_plain;
    uint32_t clusterofs = 0;     // HEAD and PLAIN: where the extent starts in the lcluster
    uint64_t pblk = 0;           // HEAD and PLAIN: the first block of its physical cluster
    uint32_t delta0 = 0;         // NONHEAD: lclusters back to the head
    uint32_t compressedblks = 0; // NONHEAD with CBLKCNT: the head's block count
};

class IndexReader {
public:
    IndexReader(const ReadSource& src, const ReadInode& inode, const std::string& what);

    uint16_t advise() const { return m_advise; }
    uint16_t tail_size() const { return m_tail_size; }
    uint64_t total() const { return m_total; }
    // Where the inline tail extent lies: right after the last index or pack.
    uint64_t tail_offset() const { return m_area_end; }
    bool big() const { return m_advise & k_advise_big_pcluster_1; }

    Lcluster load(uint64_t lcn) const;

private:
    uint64_t compact_pos(uint64_t lcn, unsigned& shift) const;
    Lcluster load_full(uint64_t lcn) const;
    Lcluster load_compact(uint64_t lcn) const;
    const uint8_t* at(uint64_t offset) const {
        return reinterpret_cast<const uint8_t*>(m_area.data()) + (offset - m_area_start);
    }

    const ReadSource& m_src;
    const std::string& m_what;
    bool m_compact = false;
    uint16_t m_advise = 0, m_tail_size = 0;
    uint32_t m_bits = 12;
    uint64_t m_total = 0;
    uint64_t m_base = 0; // the first index (compact: the first pack)
    uint64_t m_initial = 0, m_two_byte = 0;
    uint64_t m_area_start = 0, m_area_end = 0;
    std::string m_area;
};

IndexReader::IndexReader(const ReadSource& src, const ReadInode& inode, const std::string& what)
    : m_src(src), m_what(what), m_compact(inode.layout == Layout::CompressedCompact),
      m_bits(src.super().block_bits) {
    const uint64_t header_at = (inode.body_offset() + 7) & ~uint64_t{7};
    uint8_t h[k_map_header];
    src.read_into(header_at, h, sizeof h, what + ": compression map header");
    m_tail_size = static_cast<uint16_t>(get_le(h + 2, 2));
    m_advise = static_cast<uint16_t>(get_le(h + 4, 2));
    const unsigned algorithm = h[6] & 0xF;
    if (h[7] != 0)
        src.corrupt(what + ": h_clusterbits " + hex_number(h[7]) +
                    " (lclusters other than one block, or fragments) is not supported");
    if (m_advise & ~k_known_advise)
        src.corrupt(what + ": compression advise " + hex_number(m_advise) +
                    " has bits this reader does not support (fragments?)");
    if (!m_compact && (m_advise & k_advise_compacted_2b))
        src.corrupt(what + ": extent records (advise 0x1 with full indexes) are not supported");
    if (algorithm != k_algorithm_lz4) {
        const char* name = compression_algorithm_name(algorithm);
        src.corrupt(what + ": compressed with " +
                    (name ? std::string(name) : "algorithm " + std::to_string(algorithm)) +
                    ", which this reader does not support (LZ4 only)");
    }
    if (m_compact && !(m_advise & k_advise_big_pcluster_1) != !(m_advise & k_advise_big_pcluster_2))
        src.corrupt(what + ": the big pcluster bits of head 1 and head 2 differ");
    if (!(m_advise & k_advise_inline_pcluster))
        m_tail_size = 0;

    const uint64_t bs = src.super().block_size;
    m_total = inode.size / bs + (inode.size % bs != 0);
    if (m_total > src.size() / 2) // every index takes 2 bytes at least
        src.corrupt(what + ": " + std::to_string(m_total) +
                    " lcluster indexes cannot fit the image");
    if (!m_compact) {
        m_base = header_at + k_map_header + 8;
        m_area_start = m_base;
        m_area_end = m_base + m_total * k_lcluster_index;
    } else {
        if (m_bits > 14 || ((m_advise & k_advise_compacted_2b) && m_bits > 12))
            src.corrupt(what + ": compact indexes for " + std::to_string(bs) +
                        "-byte blocks are not supported");
        m_base = header_at + k_map_header;
        m_initial = (32 - m_base % 32) / 4;
        if (m_initial == 8)
            m_initial = 0;
        if ((m_advise & k_advise_compacted_2b) && m_initial < m_total)
            m_two_byte = (m_total - m_initial) / 16 * 16;
        m_area_start = m_base;
        m_area_end = m_base;
        if (m_total > 0) {
            unsigned shift = 0;
            const uint64_t last = compact_pos(m_total - 1, shift);
            const uint64_t pack = shift == 2 ? 8 : 32;
            m_area_end = last / pack * pack + pack;
        }
    }
    if (!src.contains(m_area_start, m_area_end - m_area_start))
        src.corrupt(what + ": " + std::to_string(m_total) + " lcluster indexes run past the image");
    m_area = src.read(m_area_start, m_area_end - m_area_start, what + ": lcluster indexes");
}

Lcluster IndexReader::load(uint64_t lcn) const {
    return m_compact ? load_compact(lcn) : load_full(lcn);
}

Lcluster IndexReader::load_full(uint64_t lcn) const {
    const uint8_t* di = at(m_base + lcn * k_lcluster_index);
    Lcluster l;
    l.type = static_cast<uint8_t>(get_le(di, 2) & 3);
    if (l.type == k_type_nonhead) {
        l.delta0 = static_cast<uint32_t>(get_le(di + 4, 2));
        if (l.delta0 & k_d0_cblkcnt) {
            if (!(m_advise & (k_advise_big_pcluster_1 | k_advise_big_pcluster_2)))
                m_src.corrupt(m_what + ": lcluster " + std::to_string(lcn) +
                              " holds a block count, but the file has no big pclusters");
            l.compressedblks = l.delta0 & ~uint32_t{k_d0_cblkcnt};
            l.delta0 = 1;
        }
        return l;
    }
    l.clusterofs = static_cast<uint32_t>(get_le(di + 2, 2));
    if (l.clusterofs >= (1u << m_bits))
        m_src.corrupt(m_what + ": lcluster " + std::to_string(lcn) + " starts its extent at " +
                      std::to_string(l.clusterofs) + ", beyond the lcluster");
    l.pblk = get_le(di + 4, 4);
    return l;
}

// The kernel's z_erofs_load_compact_lcluster: 4-byte entries up to a 32-byte
// boundary, then 2-byte ones in whole packs of 16, then 4-byte ones again.
uint64_t IndexReader::compact_pos(uint64_t lcn, unsigned& shift) const {
    uint64_t pos = m_base;
    if (lcn < m_initial) {
        shift = 2;
        return pos + lcn * 4;
    }
    pos += m_initial * 4;
    lcn -= m_initial;
    if (lcn < m_two_byte) {
        shift = 1;
        return pos + lcn * 2;
    }
    pos += m_two_byte * 2;
    lcn -= m_two_byte;
    shift = 2;
    return pos + lcn * 4;
}

// The kernel's unpack_compacted_index: entries of `encodebits` bits (12 bits
// of value, 2 of type), the pack's block address in its last 4 bytes.
Lcluster IndexReader::load_compact(uint64_t lcn) const {
    unsigned shift = 0;
    const uint64_t pos = compact_pos(lcn, shift);
    const unsigned vcnt = shift == 2 ? 2 : 16, pack_bytes = vcnt << shift;
    const unsigned encodebits = (pack_bytes - 4) * 8 / vcnt;
    const uint8_t* in = at(pos / pack_bytes * pack_bytes);
    const uint32_t lo_bits = std::max<uint32_t>(m_bits, k_lo_bits);
    auto decode = [&](int64_t i, uint8_t& type) {
        const uint64_t bit = encodebits * static_cast<uint64_t>(i);
        const uint32_t v = static_cast<uint32_t>(get_le(in + bit / 8, 4) >> (bit & 7));
        type = static_cast<uint8_t>((v >> lo_bits) & 3);
        return v & ((1u << lo_bits) - 1);
    };
    int64_t i = static_cast<int64_t>((pos % pack_bytes) >> shift);
    Lcluster l;
    uint32_t lo = decode(i, l.type);
    if (l.type == k_type_nonhead) {
        if (lo & k_d0_cblkcnt) {
            if (!big())
                m_src.corrupt(m_what + ": lcluster " + std::to_string(lcn) +
                              " holds a block count, but the file has no big pclusters");
            l.compressedblks = lo & ~uint32_t{k_d0_cblkcnt};
            l.delta0 = 1;
        } else if (i + 1 != vcnt) {
            l.delta0 = lo;
        } else {
            // The last entry of a pack holds delta[1]: delta[0] comes from the one before.
            uint8_t type = 0;
            lo = decode(i - 1, type);
            l.delta0 = (type != k_type_nonhead ? 0 : (lo & k_d0_cblkcnt) ? 1 : lo) + 1;
        }
        return l;
    }
    l.clusterofs = lo;
    // The head's block: the pack's address plus the blocks of the heads before
    // it (without big pclusters the address is one less than the first head's).
    uint64_t nblk = 0;
    if (!big()) {
        nblk = 1;
        while (i > 0) {
            uint8_t type = 0;
            lo = decode(--i, type);
            if (type == k_type_nonhead)
                i -= lo;
            if (i >= 0)
                ++nblk;
        }
    } else {
        while (i > 0) {
            uint8_t type = 0;
            lo = decode(--i, type);
            if (type != k_type_nonhead) {
                ++nblk;
            } else if (lo & k_d0_cblkcnt) {
                --i;
                nblk += lo & ~uint32_t{k_d0_cblkcnt};
            } else if (lo <= 1) {
                m_src.corrupt(m_what + ": lcluster " + std::to_string(lcn) +
                              ": a big pcluster's lcluster says it is 1 from its head");
            } else {
                i -= lo - 2;
            }
        }
    }
    l.pblk = get_le(in + pack_bytes - 4, 4) + nblk;
    return l;
}

struct Head {
    uint64_t lcn = 0, la = 0;
    Lcluster index;
};

// The physical cluster's length of the extent whose head is `h` (the
// kernel's z_erofs_get_extent_compressedlen).
uint64_t physical_length(const ReadSource& src, const IndexReader& idx, const Head& h,
                         const std::string& what) {
    const uint64_t bs = src.super().block_size;
    if (h.index.type == k_type_plain || !idx.big())
        return bs;
    const std::string at = what + ": lcluster " + std::to_string(h.lcn + 1);
    if (h.lcn + 1 >= idx.total())
        src.corrupt(what + ": the extent at lcluster " + std::to_string(h.lcn) +
                    " has no block count (no lcluster follows it)");
    const Lcluster next = idx.load(h.lcn + 1);
    if (next.type != k_type_nonhead)
        return bs;
    if (next.delta0 != 1)
        src.corrupt(at + ": a bogus block count (CBLKCNT)");
    if (next.compressedblks == 0)
        src.corrupt(at + ": no block count (CBLKCNT) for the extent before it");
    if (uint64_t{next.compressedblks} * bs > k_max_pcluster)
        src.corrupt(at + ": physical cluster of " + std::to_string(next.compressedblks) +
                    " blocks, more than 1 MiB");
    return uint64_t{next.compressedblks} * bs;
}

void decode_extent(const ReadSource& src, const IndexReader& idx, const Head& h, bool inline_tail,
                   uint64_t pa, const std::string& in, uint64_t llen, std::string& out,
                   const std::string& what) {
    const uint64_t bs = src.super().block_size;
    const std::string ext = what + ": extent at byte " + std::to_string(h.la);
    char* dst = out.data() + h.la;
    if (h.index.type == k_type_plain) {
        if (llen > in.size())
            src.corrupt(ext + ": " + std::to_string(llen) + " uncompressed bytes in a " +
                        std::to_string(in.size()) + "-byte cluster");
        if ((idx.advise() & k_advise_interlaced) && !inline_tail) {
            // The kernel's z_erofs_transform_plain: the part up to the block's
            // end lies at the lcluster's offset, the rest from the start.
            const uint64_t first = bs - h.la % bs, from = in.size() - first;
            const uint64_t n = std::min(first, llen);
            std::memcpy(dst, in.data() + from, n);
            std::memcpy(dst + n, in.data(), llen - n);
        } else {
            std::memcpy(dst, in.data(), llen);
        }
        return;
    }
    if (llen > INT_MAX)
        src.corrupt(ext + ": " + std::to_string(llen) + " bytes in one extent");
    int n = 0;
    if (src.super().zero_padding()) {
        // The compressed bytes end at the cluster's end; zeros lead in its first block.
        const uint64_t limit = std::min<uint64_t>(in.size(), bs - pa % bs);
        uint64_t margin = 0;
        while (margin < limit && in[margin] == '\0')
            ++margin;
        if (margin == limit)
            src.corrupt(ext + ": the compressed cluster holds only zeros");
        n = LZ4_decompress_safe(in.data() + margin, dst, static_cast<int>(in.size() - margin),
                                static_cast<int>(llen));
    } else {
        n = LZ4_decompress_safe_partial(in.data(), dst, static_cast<int>(in.size()),
                                        static_cast<int>(llen), static_cast<int>(llen));
    }
    if (n < 0)
        src.corrupt(ext + ": LZ4 data is corrupt");
    if (static_cast<uint64_t>(n) != llen)
        src.corrupt(ext + ": LZ4 data gives " + std::to_string(n) + " bytes, not " +
                    std::to_string(llen));
}

} // namespace

std::string read_compressed(const ReadSource& src, const ReadInode& inode,
                            const std::string& what) {
    const IndexReader idx(src, inode, what);
    const uint64_t bs = src.super().block_size;
    std::vector<Head> heads;
    for (uint64_t lcn = 0; lcn < idx.total(); ++lcn) {
        Lcluster l = idx.load(lcn);
        if (l.type == k_type_nonhead) {
            if (lcn == 0)
                src.corrupt(what + ": lcluster 0 does not start an extent");
            continue;
        }
        if (l.type != k_type_plain && l.type != k_type_head1)
            src.corrupt(what + ": lcluster " + std::to_string(lcn) + " has type " +
                        std::to_string(l.type) + " (HEAD2), which this reader does not support");
        const uint64_t la = lcn * bs + l.clusterofs;
        if (lcn == 0 && la != 0)
            src.corrupt(what + ": the first extent starts at byte " + std::to_string(la) +
                        ", not 0");
        if (la >= inode.size)
            break; // the kernel never maps an extent past the end
        heads.push_back({lcn, la, l});
    }
    std::string out(inode.size, '\0');
    for (size_t k = 0; k < heads.size(); ++k) {
        const Head& h = heads[k];
        const uint64_t end = k + 1 < heads.size() ? heads[k + 1].la : inode.size;
        const bool inline_tail = idx.tail_size() > 0 && k + 1 == heads.size();
        uint64_t pa = 0, plen = 0;
        if (inline_tail) {
            pa = idx.tail_offset();
            plen = idx.tail_size();
            if (pa % bs + plen > bs)
                src.corrupt(what + ": inline tail extent of " + std::to_string(plen) +
                            " bytes crosses a block boundary");
        } else {
            pa = h.index.pblk * bs;
            plen = physical_length(src, idx, h, what);
            if (h.index.pblk > src.size() / bs || !src.contains(pa, plen))
                src.corrupt(what + ": extent at byte " + std::to_string(h.la) + ": block " +
                            std::to_string(h.index.pblk) + " lies beyond the image");
        }
        const std::string in = src.read(pa, plen, what + ": compressed data");
        decode_extent(src, idx, h, inline_tail, pa, in, end - h.la, out, what);
    }
    return out;
}

} // namespace sysext::erofs

#include "sysext/erofs/indexes.hpp"

#include "sysext/erofs/format.hpp"
#include "sysext/util/error.hpp"

namespace sysext::erofs {

namespace {

constexpr uint16_t k_advise_compacted_2b = 0x0001;
constexpr uint16_t k_advise_big_pcluster_2 = 0x0004;
constexpr uint16_t k_advise_inline_pcluster = 0x0008;
constexpr uint16_t k_advise_fragment_pcluster = 0x0020;

// What every lcluster's index says, whichever form encodes it.
struct Lcluster {
    uint16_t type = k_lcluster_plain;
    uint16_t clusterofs = 0; // HEAD: where the extent starts; NONHEAD: its head's
    uint16_t d0 = 0;         // NONHEAD: back to the head, or CBLKCNT | blocks
    uint16_t d1 = 0;         // NONHEAD: on to the next head (or past the end)
    uint32_t blkaddr = 0;    // HEAD
    size_t extent = 0;       // the extent it belongs to
};

std::vector<Lcluster> lclusters(const std::vector<Extent>& extents, uint64_t size, bool big) {
    const uint64_t total = blocks_for(size);
    std::vector<Lcluster> out(total);
    for (size_t i = 0; i < extents.size(); ++i) {
        const Extent& e = extents[i];
        const uint64_t head = e.logical / k_block;
        const uint64_t next = i + 1 < extents.size() ? extents[i + 1].logical / k_block : total;
        if (head >= total || (next <= head && i + 1 < extents.size()))
            throw Error(ErrorKind::Internal, "EROFS: extents out of order or in one lcluster");
        const auto clusterofs = static_cast<uint16_t>(e.logical % k_block);
        out[head] = {e.plain ? k_lcluster_plain : k_lcluster_head1, clusterofs, 0, 0, e.blkaddr, i};
        for (uint64_t lcn = head + 1; lcn < next; ++lcn) {
            const uint64_t back = lcn - head;
            if (back >= k_d0_cblkcnt || next - lcn > 0xFFF)
                throw Error(ErrorKind::Internal, "EROFS: extent spans too many lclusters");
            uint16_t d0 = static_cast<uint16_t>(back);
            if (big && lcn == head + 1)
                d0 = static_cast<uint16_t>(k_d0_cblkcnt | e.blocks);
            out[lcn] = {
                k_lcluster_nonhead, clusterofs, d0, static_cast<uint16_t>(next - lcn), 0, i};
        }
    }
    return out;
}

void map_header(uint8_t* h, uint16_t advise, const MapHeader& m) {
    if (m.fragment && m.tail_size)
        throw Error(ErrorKind::Internal, "EROFS: a file with both an inline tail and a fragment");
    if (m.fragment) {
        put32(h, static_cast<uint32_t>(m.fragment_off)); // h_fragmentoff (low 32 bits)
        advise |= k_advise_fragment_pcluster;
    }
    if (m.tail_size) {
        put16(h + 2, m.tail_size); // h_idata_size
        advise |= k_advise_inline_pcluster;
    }
    put16(h + 4, advise);
    h[6] = m.algorithm; // head 1; head 2 unused
    h[7] = 0;               // lclusterbits - 12
}

uint64_t align8(uint64_t n) {
    return (n + 7) & ~uint64_t{7};
}

// The compact form's regions: 4-byte entries up to a 32-byte boundary, then
// 2-byte ones in packs of 16, then 4-byte ones again.
struct CompactShape {
    uint64_t initial = 0, two_byte = 0, rest = 0;
    uint64_t bytes() const { return 8 + (initial + 1) / 2 * 8 + two_byte * 2 + (rest + 1) / 2 * 8; }
};

CompactShape compact_shape(uint64_t size, uint32_t header_size) {
    const uint64_t total = blocks_for(size);
    // Inodes start on 32-byte boundaries: where the first index falls in its
    // 32-byte slot depends on the header alone.
    const uint64_t ebase = align8(header_size) + k_map_header;
    uint64_t initial = (32 - ebase % 32) / 4;
    if (initial == 8)
        initial = 0;
    CompactShape s;
    s.two_byte = initial < total ? (total - initial) / 16 * 16 : 0;
    s.initial = std::min(initial, total);
    s.rest = total - s.initial - s.two_byte;
    return s;
}

// Writes one pack: entries of `bits` bits, then the pack's block address.
void write_pack(uint8_t* pack, size_t pack_bytes, unsigned bits,
                const std::vector<uint32_t>& entries, uint32_t blkaddr) {
    for (size_t i = 0; i < entries.size(); ++i) {
        const uint64_t pos = bits * i;
        const uint32_t v = entries[i] << (pos & 7);
        for (unsigned b = 0; b < 4 && pos / 8 + b < pack_bytes - 4; ++b)
            pack[pos / 8 + b] |= static_cast<uint8_t>(v >> (8 * b));
    }
    put32(pack + pack_bytes - 4, blkaddr);
}

} // namespace

uint64_t full_indexes_size(uint64_t size) {
    return 16 + 8 * blocks_for(size);
}

uint64_t compact_indexes_size(uint64_t size, uint32_t header_size) {
    return compact_shape(size, header_size).bytes();
}

std::string encode_full_indexes(const std::vector<Extent>& extents, uint64_t size, bool big,
                                const MapHeader& header) {
    std::string out(static_cast<size_t>(full_indexes_size(size)), '\0');
    auto* h = reinterpret_cast<uint8_t*>(out.data());
    map_header(h, big ? k_advise_big_pcluster_1 : 0, header);
    uint8_t* d = h + 16;
    for (const Lcluster& l : lclusters(extents, size, big)) {
        put16(d, l.type);
        put16(d + 2, l.clusterofs);
        if (l.type == k_lcluster_nonhead) {
            put16(d + 4, l.d0);
            put16(d + 6, l.d1);
        } else {
            put32(d + 4, l.blkaddr);
        }
        d += k_lcluster_index;
    }
    return out;
}

std::string encode_compact_indexes(const std::vector<Extent>& extents, uint64_t size,
                                   uint32_t header_size, const MapHeader& header) {
    const CompactShape shape = compact_shape(size, header_size);
    const std::vector<Lcluster> lc = lclusters(extents, size, true);
    std::string out(static_cast<size_t>(shape.bytes()), '\0');
    auto* h = reinterpret_cast<uint8_t*>(out.data());
    map_header(h, k_advise_compacted_2b | k_advise_big_pcluster_1 | k_advise_big_pcluster_2,
               header);
    uint8_t* at = h + k_map_header;
    // One pack of `count` lclusters from `first` on (the last pack of a region
    // may run past the end of the file: its missing entries stay zero, which
    // reads as heads where the kernel looks for the next one).
    auto pack = [&](uint64_t first, unsigned count, unsigned bits, size_t pack_bytes) {
        std::vector<uint32_t> entries;
        for (uint64_t lcn = first; lcn < first + count && lcn < lc.size(); ++lcn) {
            const Lcluster& l = lc[lcn];
            uint32_t lo = l.clusterofs;
            if (l.type == k_lcluster_nonhead)
                // The last entry of a pack holds the distance on, the others
                // the distance back (or the block count).
                lo = lcn == first + count - 1 && !(l.d0 & k_d0_cblkcnt) ? l.d1 : l.d0;
            entries.push_back(lo | uint32_t{l.type} << k_block_bits);
        }
        // The kernel adds up the blocks of the heads in the pack before the one
        // it maps, and those of an extent whose CBLKCNT opens the pack.
        uint32_t base = 0;
        if (first < lc.size()) {
            const Lcluster& l = lc[first];
            const Extent& owner = extents[l.extent];
            if (l.type != k_lcluster_nonhead || (l.d0 & k_d0_cblkcnt))
                base = owner.blkaddr;
            else
                base = owner.blkaddr + owner.blocks;
        }
        write_pack(at, pack_bytes, bits, entries, base);
        at += pack_bytes;
    };
    uint64_t lcn = 0;
    for (uint64_t i = 0; i < shape.initial; i += 2, lcn += 2)
        pack(lcn, 2, 16, 8);
    for (uint64_t i = 0; i < shape.two_byte; i += 16, lcn += 16)
        pack(lcn, 16, 14, 32);
    for (uint64_t i = 0; i < shape.rest; i += 2, lcn += 2)
        pack(lcn, 2, 16, 8);
    return out;
}

std::string encode_whole_fragment(uint64_t offset) {
    if (offset >> 63)
        throw Error(ErrorKind::Internal, "EROFS: fragment offset out of range");
    std::string out(16, '\0');
    put64(reinterpret_cast<uint8_t*>(out.data()), offset | uint64_t{1} << 63);
    return out;
}

} // namespace sysext::erofs

#include "sysext/erofs/data.hpp"

#include "sysext/erofs/indexes.hpp"
#include "sysext/erofs/segment_cache.hpp"

#include "sysext/erofs/ordered_pool.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/cores.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <algorithm>
#include <cstring>

namespace sysext::erofs {

namespace {

constexpr size_t k_flush_at = 1 << 20;

// Threads for jobs = 0: one per core this process may run on.
unsigned threads_for(unsigned jobs) {
    return jobs ? jobs : usable_cores();
}

bool all_zero(const char* p, size_t n) {
    return std::all_of(p, p + n, [](char c) { return c == 0; });
}

// An uncompressed file's data, fed in pieces.
class FlatFile {
public:
    explicit FlatFile(DataArea& area) : m_area(area) {}

    void feed(const char* p, size_t n) {
        while (n > 0) {
            size_t take = std::min(n, k_block - m_carry.size());
            m_carry.append(p, take);
            p += take;
            n -= take;
            if (m_carry.size() == k_block) {
                if (all_zero(m_carry.data(), k_block)) {
                    m_addrs.push_back(m_area.zero_block());
                    ++m_zero_blocks;
                } else {
                    m_addrs.push_back(m_area.put(m_carry.data(), k_block));
                }
                m_carry.clear();
            }
        }
    }

    void finish(InodeInfo& info, WriteStats& stats) {
        if (m_zero_blocks > 0) {
            // Chunk-based with 4 KiB chunks (i_u holds the chunk format, 0),
            // every all-zero block mapped to the image's one zero block.
            stats.sparse_blocks += m_zero_blocks;
            if (!m_carry.empty())
                m_addrs.push_back(all_zero(m_carry.data(), m_carry.size())
                                      ? m_area.zero_block()
                                      : m_area.put(m_carry.data(), m_carry.size()));
            info.layout = Layout::ChunkBased;
            info.i_u = 0;
            info.chunks = std::move(m_addrs);
            return;
        }
        info.i_u = m_addrs.empty() ? k_null_addr : m_addrs.front();
        if (m_carry.empty()) {
            info.layout = Layout::FlatPlain;
        } else if (info.header_size() + m_carry.size() <= k_block) {
            info.layout = Layout::FlatInline;
            info.inline_data = std::move(m_carry);
            ++stats.inline_tails;
        } else {
            uint32_t at = m_area.put(m_carry.data(), m_carry.size());
            if (m_addrs.empty())
                info.i_u = at;
            info.layout = Layout::FlatPlain;
        }
    }

private:
    DataArea& m_area;
    std::string m_carry;
    std::vector<uint32_t> m_addrs;
    uint64_t m_zero_blocks = 0;
};

// Compact indexes need big pclusters (their block counts); with 4 KiB
// pclusters the full form is used.
Layout compressed_layout(uint32_t pcluster) {
    return pcluster > k_block ? Layout::CompressedCompact : Layout::CompressedFull;
}

// The map header and indexes a compressed file of `size` bytes takes.
uint64_t indexes_size(uint32_t pcluster, uint64_t size, const InodeInfo& info) {
    return compressed_layout(pcluster) == Layout::CompressedCompact
               ? compact_indexes_size(size, info.header_size())
               : full_indexes_size(size);
}

// A segment handed to a worker, and what comes back.
struct Segment {
    InodeInfo* info = nullptr;
    uint64_t offset = 0;
    bool last = false;
    bool packed = false;             // the packed inode's data: no fragments of its own
    std::string raw;                 // kept when the file is stored uncompressed, or is a fragment
    std::vector<ExtentData> extents; // empty when stored uncompressed or a whole fragment
    bool whole_fragment = false;     // raw is the whole file, for the packed inode
    std::string fragment;            // the input of the file's last extent, for the packed inode
};

// Whether a file's last extent goes to the packed inode: it leaves part of
// its pcluster (or, stored plain, of its block) unused.
bool fragment_worthy(const ExtentData& e, uint32_t pcluster) {
    return e.plain ? e.length < k_block : e.blocks.size() < pcluster;
}

class CompressedFiles {
public:
    CompressedFiles(DataArea& area, const WriterOptions& o, WriteStats& stats)
        : m_area(area), m_options(o), m_stats(stats),
          m_cache(o.cache, o.compression, o.pcluster_size),
          m_pool(threads_for(o.jobs), 2 * threads_for(o.jobs)) {}

    void submit(Segment seg) {
        const uint32_t pcluster = m_options.pcluster_size;
        const bool fragments = m_options.fragments && !seg.packed;
        const bool tails = m_options.tail_packing && !fragments;
        const SegmentCache* cache = &m_cache;
        auto work = [cache, pcluster, tails, fragments,
                     s = std::make_shared<Segment>(std::move(seg))]() {
            Segment r = std::move(*s);
            const auto* data = reinterpret_cast<const uint8_t*>(r.raw.data());
            const uint64_t size = r.raw.size();
            const bool whole_file = r.offset == 0 && r.last;
            // A small file goes to the packed inode whole, uncompressed here.
            if (fragments && whole_file && size > 0 && size < pcluster) {
                r.whole_fragment = true;
                return r;
            }
            // Room for the tail: what the inode's block has left after the
            // inode, its xattrs and its indexes.
            uint32_t room = 0;
            const uint64_t taken =
                (r.info->header_size() + 7) / 8 * 8 + indexes_size(pcluster, r.info->size, *r.info);
            if (tails && r.last && taken < k_block)
                room = static_cast<uint32_t>(k_block - taken);
            if (!whole_file || size > k_block || (room && size > 0))
                r.extents = cache->extents(data, size, room);
            uint64_t blocks = 0, tail = 0;
            for (const auto& e : r.extents) {
                blocks += e.blocks.size() / k_block;
                tail += e.tail ? e.blocks.size() : 0;
            }
            // A file of one segment is stored as it is unless that costs more:
            // blocks, or with tail packing, bytes (the indexes included).
            bool flat = r.extents.empty();
            if (whole_file && !tails)
                flat = flat || blocks >= blocks_for(size);
            else if (whole_file)
                flat =
                    flat || blocks * k_block + tail + indexes_size(pcluster, size, *r.info) >= size;
            if (flat) {
                r.extents.clear();
                return r;
            }
            if (fragments && r.last && fragment_worthy(r.extents.back(), pcluster)) {
                r.fragment = r.raw.substr(size - r.extents.back().length);
                r.extents.pop_back();
                if (whole_file && r.extents.empty()) {
                    r.whole_fragment = true;
                    return r;
                }
            }
            r.raw.clear();
            return r;
        };
        m_pool.submit(std::move(work), [this](Segment& r) { take(r); });
    }

    void finish() {
        m_pool.drain([this](Segment& r) { take(r); });
    }

    // The fragments so far, in the order of their files.
    std::string& packed() { return m_packed; }

private:
    uint64_t add_fragment(const std::string& bytes) {
        const uint64_t at = m_packed.size();
        m_packed += bytes;
        ++m_stats.fragments;
        return at;
    }

    void take(Segment& r) {
        InodeInfo& info = *r.info;
        if (r.whole_fragment) {
            info.layout = Layout::CompressedFull;
            info.whole_fragment = true;
            info.fragment_off = add_fragment(r.raw);
            info.i_u = 0;
            ++m_stats.compressed_files;
            return;
        }
        if (r.extents.empty() && r.fragment.empty()) { // the whole file, uncompressed
            FlatFile flat(m_area);
            flat.feed(r.raw.data(), r.raw.size());
            flat.finish(info, m_stats);
            return;
        }
        uint64_t logical = r.offset;
        for (auto& e : r.extents) {
            Extent x;
            x.logical = logical;
            x.plain = e.plain;
            if (e.tail) {
                // After the indexes, in the inode's block (compress_segment
                // made it fit): it takes no block, though CBLKCNT counts one.
                // A tail cannot go to a block of its own instead: a compressed
                // extent in the last lcluster has no next index for its count.
                if (k_block < (info.header_size() + 7) / 8 * 8 +
                                  indexes_size(m_options.pcluster_size, info.size, info) +
                                  e.blocks.size())
                    throw Error(ErrorKind::Internal,
                                info.node->path() + ": EROFS tail larger than its inode's block");
                x.inlined = true;
                x.blkaddr = m_area.next();
                info.inline_data = std::move(e.blocks);
                ++m_stats.inline_tails;
            } else {
                x.blocks = static_cast<uint32_t>(e.blocks.size() / k_block);
                x.blkaddr = m_area.put(e.blocks.data(), e.blocks.size());
            }
            info.extents.push_back(x);
            logical += e.length;
            ++m_stats.extents;
            m_stats.plain_extents += e.plain ? 1 : 0;
        }
        if (!r.fragment.empty()) {
            // The last extent, read from the packed inode: a HEAD1 index with
            // no blocks (CBLKCNT 0), whose address the full form takes for
            // the offset's high bits and the compact form counts blocks by.
            const bool full = compressed_layout(m_options.pcluster_size) == Layout::CompressedFull;
            info.tail_fragment = true;
            info.fragment_off = add_fragment(r.fragment);
            Extent x;
            x.logical = logical;
            x.blocks = 0;
            x.blkaddr = full ? static_cast<uint32_t>(info.fragment_off >> 32) : m_area.next();
            info.extents.push_back(x);
        }
        if (r.last) {
            uint64_t blocks = 0;
            for (const auto& x : info.extents)
                blocks += x.inlined ? 0 : x.blocks;
            info.layout = compressed_layout(m_options.pcluster_size);
            info.i_u = static_cast<uint32_t>(blocks);
            ++m_stats.compressed_files;
        }
    }

    DataArea& m_area;
    const WriterOptions& m_options;
    WriteStats& m_stats;
    SegmentCache m_cache; // before the pool, whose workers use it
    std::string m_packed; // the fragments, in the order their files were taken
    OrderedPool<Segment> m_pool;
};

} // namespace

uint32_t DataArea::put(const void* data, size_t size) {
    const uint32_t at = m_next;
    if (m_pending.empty())
        m_pending_at = uint64_t{at} * k_block;
    m_pending.append(static_cast<const char*>(data), size);
    m_pending.resize(m_pending.size() + (k_block - size % k_block) % k_block, '\0');
    m_next += static_cast<uint32_t>(blocks_for(size));
    if (m_pending.size() >= k_flush_at)
        flush();
    return at;
}

uint32_t DataArea::zero_block() {
    if (m_zero_block == k_null_addr) {
        const std::string zeros(k_block, '\0');
        m_zero_block = put(zeros.data(), zeros.size());
    }
    return m_zero_block;
}

void DataArea::flush() {
    if (m_pending.empty())
        return;
    pwrite_all(m_fd, m_pending.data(), m_pending.size(), m_pending_at, "writing the image");
    m_pending.clear();
}

uint32_t write_file_data(const std::vector<InodeInfo*>& files, InodeInfo* packed, int fd,
                         uint32_t first_block, const WriterOptions& options, Reporter& reporter,
                         WriteStats& stats) {
    reporter.stage("compressing");
    uint64_t total = 0, done = 0;
    for (const InodeInfo* f : files)
        total += f->size;
    DataArea area(fd, first_block);
    if (!options.compression.enabled()) {
        for (InodeInfo* f : files) {
            FlatFile flat(area);
            tree::read_content(*f->node, [&](const void* p, size_t n) {
                flat.feed(static_cast<const char*>(p), n);
                done += n;
                reporter.progress(done, total);
            });
            flat.finish(*f, stats);
        }
    } else {
        CompressedFiles compressed(area, options, stats);
        for (InodeInfo* f : files) {
            Segment seg;
            seg.info = f;
            seg.raw.reserve(std::min<uint64_t>(f->size, k_segment));
            tree::read_content(*f->node, [&](const void* p, size_t n) {
                const char* c = static_cast<const char*>(p);
                done += n;
                while (n > 0) {
                    size_t take = std::min(n, k_segment - seg.raw.size());
                    seg.raw.append(c, take);
                    c += take;
                    n -= take;
                    if (seg.raw.size() == k_segment && seg.offset + k_segment < f->size) {
                        Segment next;
                        next.info = f;
                        next.offset = seg.offset + k_segment;
                        next.raw.reserve(std::min<uint64_t>(f->size - next.offset, k_segment));
                        compressed.submit(std::exchange(seg, std::move(next)));
                    }
                }
                reporter.progress(done, total);
            });
            seg.last = true;
            compressed.submit(std::move(seg));
        }
        compressed.finish();
        // The packed inode: the fragments, compressed as a file of their own.
        if (packed && !compressed.packed().empty()) {
            reporter.stage("compressing fragments");
            const std::string data = std::move(compressed.packed());
            packed->size = data.size();
            stats.packed_bytes = data.size();
            for (uint64_t at = 0; at < data.size(); at += k_segment) {
                Segment seg;
                seg.info = packed;
                seg.packed = true;
                seg.offset = at;
                seg.raw = data.substr(at, k_segment);
                seg.last = at + k_segment >= data.size();
                compressed.submit(std::move(seg));
            }
            compressed.finish();
        }
    }
    area.flush();
    stats.input_bytes = done;
    stats.data_blocks = area.next() - first_block;
    return area.next();
}

} // namespace sysext::erofs

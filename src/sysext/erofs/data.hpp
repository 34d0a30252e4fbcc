// File data of an EROFS image: the blocks after the superblock, in order.
//
// Uncompressed files keep their full blocks contiguous and their tail inline
// after the inode when it fits in the inode's block; a file with all-zero
// blocks becomes chunk-based, those blocks all mapped to one zero block of
// the image (sparse files take no room). Holes (a chunk address of -1) would
// do as well for the kernel, but fsck.erofs 1.5 extracts such files short. Compressed files are cut
// into segments of k_segment bytes, compressed on worker threads and written in order; a file of
// one segment whose compression saves no block is stored uncompressed.
#pragma once

#include "sysext/erofs/inode.hpp"
#include "sysext/erofs/writer.hpp"

#include <string>
#include <vector>

namespace sysext::erofs {

// Segments start on 4 KiB boundaries of their file; each is compressed alone.
inline constexpr size_t k_segment = 4 << 20;

// Appends whole blocks to the image at consecutive block addresses.
class DataArea {
public:
    DataArea(int fd, uint32_t first_block) : m_fd(fd), m_next(first_block) {}
    // Writes bytes (padded with zeros to whole blocks); returns the first block's address.
    uint32_t put(const void* data, size_t size);
    // The address of a block of zeros, written at the first call.
    uint32_t zero_block();
    void flush();
    uint32_t next() const { return m_next; }

private:
    int m_fd;
    uint32_t m_next;
    uint64_t m_pending_at = 0;
    uint32_t m_zero_block = k_null_addr;
    std::string m_pending;
};

// Writes the data of these file inodes, in order, and sets their layout,
// i_u, inline tail, chunk map, extents or fragment. With options.fragments,
// `packed` is the packed inode (not among files): its data, the fragments,
// is written after every file's, and its size set (0: no fragments).
// Returns the first block after the data.
uint32_t write_file_data(const std::vector<InodeInfo*>& files, InodeInfo* packed, int fd,
                         uint32_t first_block, const WriterOptions& options, Reporter& reporter,
                         WriteStats& stats);

} // namespace sysext::erofs

#include "sysext/verity/hash_tree.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace sysext::verity {

namespace {

constexpr size_t k_digest_size = 32;
constexpr uint64_t k_hashes_per_block = k_block_size / k_digest_size; // 128
constexpr size_t k_read_chunk = 256 * k_block_size;                   // 1 MiB

struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// SHA-256(salt || block), reusing one context: this runs once per 4 KiB.
class SaltedHasher {
public:
    explicit SaltedHasher(std::string salt) : m_salt(std::move(salt)), m_ctx(EVP_MD_CTX_new()) {
        if (!m_ctx)
            throw Error(ErrorKind::Internal, "cannot allocate a SHA-256 context");
    }
    void hash(const uint8_t* block, uint8_t* out) {
        unsigned len = 0;
        if (EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1 ||
            EVP_DigestUpdate(m_ctx.get(), m_salt.data(), m_salt.size()) != 1 ||
            EVP_DigestUpdate(m_ctx.get(), block, k_block_size) != 1 ||
            EVP_DigestFinal_ex(m_ctx.get(), out, &len) != 1 || len != k_digest_size)
            throw Error(ErrorKind::Internal, "SHA-256 failed");
    }

private:
    std::string m_salt;
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> m_ctx;
};

void read_exact(int fd, void* buf, size_t size, uint64_t offset, const std::string& what) {
    if (pread_full(fd, buf, size, static_cast<off_t>(offset), what) != size)
        throw_verify(what + ": ends early (reading " + std::to_string(size) + " bytes at offset " +
                     std::to_string(offset) + ")");
}

// How many entries block `index` of a level holds, given the level's child count.
uint64_t entries_in_block(uint64_t children, uint64_t index) {
    return std::min<uint64_t>(k_hashes_per_block, children - index * k_hashes_per_block);
}

bool all_zero(const uint8_t* p, size_t n) {
    return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

std::string hex_digest(const uint8_t* p) {
    return to_hex(p, k_digest_size);
}

} // namespace

TreeLayout plan_tree(uint64_t data_size, const std::string& what) {
    if (data_size == 0)
        throw_input(what + ": is empty; dm-verity needs at least one 4096-byte block");
    if (data_size % k_block_size != 0)
        throw_input(what + ": size " + std::to_string(data_size) +
                    " is not a multiple of 4096 bytes; dm-verity covers whole blocks only "
                    "(pad the image, as `sysext-build pack` does)");
    TreeLayout layout;
    layout.data_blocks = data_size / k_block_size;
    // Count levels bottom-up; each holds ceil(children / 128) blocks.
    uint64_t children = layout.data_blocks;
    std::vector<uint64_t> sizes;
    while (children > 1) {
        uint64_t blocks = (children + k_hashes_per_block - 1) / k_hashes_per_block;
        sizes.push_back(blocks);
        children = blocks;
    }
    // Lay them out top level first, right after the superblock block.
    layout.level_blocks = sizes;
    layout.level_start.assign(sizes.size(), 0);
    uint64_t position = 1;
    for (size_t i = sizes.size(); i-- > 0;) {
        layout.level_start[i] = position;
        position += sizes[i];
    }
    layout.total_blocks = position;
    return layout;
}

std::string content_salt(const Region& data) {
    Sha256 h;
    std::vector<uint8_t> buf(k_read_chunk);
    for (uint64_t done = 0; done < data.size;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), data.size - done));
        read_exact(data.fd, buf.data(), n, data.offset + done, data.what);
        h.update(buf.data(), n);
        done += n;
    }
    Digest d = h.finish();
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::array<uint8_t, 16> uuid_for_root_hash(const Digest& root_hash) {
    std::array<uint8_t, 16> uuid{};
    std::memcpy(uuid.data(), root_hash.data() + root_hash.size() - uuid.size(), uuid.size());
    return uuid;
}

Digest build_tree(const Region& data, const std::string& salt, int out_fd, uint64_t out_offset,
                  Reporter& reporter) {
    TreeLayout layout = plan_tree(data.size, data.what);
    SaltedHasher hasher(salt);
    const std::string out_what = "hash tree output";
    std::vector<uint8_t> in(k_read_chunk);
    std::vector<uint8_t> out_block(k_block_size, 0);
    Digest root{};

    // Level 0 from the data, streamed; with a single data block its hash is the root.
    uint64_t filled = 0, out_index = 0;
    auto flush = [&](size_t level) {
        pwrite_all(out_fd, out_block.data(), k_block_size,
                 out_offset + (layout.level_start[level] + out_index) * k_block_size, out_what);
        std::fill(out_block.begin(), out_block.end(), 0);
        filled = 0;
        ++out_index;
    };
    for (uint64_t block = 0; block < layout.data_blocks;) {
        uint64_t n = std::min<uint64_t>(k_read_chunk / k_block_size, layout.data_blocks - block);
        read_exact(data.fd, in.data(), n * k_block_size, data.offset + block * k_block_size,
                   data.what);
        for (uint64_t i = 0; i < n; ++i) {
            if (layout.level_blocks.empty()) {
                hasher.hash(in.data(), root.data());
                continue;
            }
            hasher.hash(in.data() + i * k_block_size, out_block.data() + filled * k_digest_size);
            if (++filled == k_hashes_per_block)
                flush(0);
        }
        block += n;
        reporter.progress(block, layout.data_blocks);
    }
    if (filled > 0)
        flush(0);

    // Each higher level from the one below, read back from the output.
    for (size_t level = 1; level < layout.level_blocks.size(); ++level) {
        filled = 0;
        out_index = 0;
        for (uint64_t i = 0; i < layout.level_blocks[level - 1]; ++i) {
            read_exact(out_fd, in.data(), k_block_size,
                       out_offset + (layout.level_start[level - 1] + i) * k_block_size, out_what);
            hasher.hash(in.data(), out_block.data() + filled * k_digest_size);
            if (++filled == k_hashes_per_block)
                flush(level);
        }
        if (filled > 0)
            flush(level);
    }
    if (!layout.level_blocks.empty()) {
        size_t top = layout.level_blocks.size() - 1;
        read_exact(out_fd, in.data(), k_block_size,
                   out_offset + layout.level_start[top] * k_block_size, out_what);
        hasher.hash(in.data(), root.data());
    }

    Superblock sb;
    sb.uuid = uuid_for_root_hash(root);
    sb.data_blocks = layout.data_blocks;
    sb.salt = salt;
    std::vector<uint8_t> first(k_block_size, 0);
    auto encoded = encode_superblock(sb);
    std::copy(encoded.begin(), encoded.end(), first.begin());
    pwrite_all(out_fd, first.data(), first.size(), out_offset, out_what);
    return root;
}

TreeInfo verify_tree(const Region& data, const Region& hash, const Digest& root_hash) {
    TreeInfo info;
    std::vector<uint8_t> block(k_block_size);
    if (hash.size < k_block_size)
        throw_verify(hash.what + ": too small for a dm-verity superblock (" +
                     std::to_string(hash.size) + " bytes)");
    read_exact(hash.fd, block.data(), k_block_size, hash.offset, hash.what);
    info.superblock = decode_superblock(block.data(), hash.what);
    const Superblock& sb = info.superblock;
    if (!all_zero(block.data() + k_superblock_size, k_block_size - k_superblock_size))
        throw_verify(hash.what + ": non-zero bytes after the dm-verity superblock");
    if (sb.algorithm != "sha256" || sb.data_block_size != k_block_size ||
        sb.hash_block_size != k_block_size)
        throw_verify(hash.what + ": unsupported dm-verity parameters (" + sb.algorithm + ", " +
                     std::to_string(sb.data_block_size) + "/" + std::to_string(sb.hash_block_size) +
                     "-byte blocks); expected sha256, 4096");
    info.layout = plan_tree(data.size, data.what);
    const TreeLayout& layout = info.layout;
    if (sb.data_blocks != layout.data_blocks)
        throw_verify(hash.what + ": the superblock covers " + std::to_string(sb.data_blocks) +
                     " data blocks, but " + data.what + " has " +
                     std::to_string(layout.data_blocks));
    if (hash.size != layout.hash_area_size())
        throw_verify(hash.what + ": is " + std::to_string(hash.size) + " bytes; a tree for " +
                     data.what + " takes " + std::to_string(layout.hash_area_size()));
    SaltedHasher hasher(sb.salt);
    uint8_t digest[k_digest_size];
    const size_t levels = layout.level_blocks.size();

    // The top: its salted hash is the root hash.
    if (levels == 0) {
        read_exact(data.fd, block.data(), k_block_size, data.offset, data.what);
        hasher.hash(block.data(), digest);
        if (std::memcmp(digest, root_hash.data(), k_digest_size) != 0)
            throw_verify(data.what + ": its only data block does not match root hash " +
                         to_hex(root_hash));
    } else {
        read_exact(hash.fd, block.data(), k_block_size,
                   hash.offset + layout.level_start[levels - 1] * k_block_size, hash.what);
        hasher.hash(block.data(), digest);
        if (std::memcmp(digest, root_hash.data(), k_digest_size) != 0)
            throw_verify("root hash " + to_hex(root_hash) + " does not match the top of the " +
                         "hash tree in " + hash.what + " (which hashes to " + hex_digest(digest) +
                         "): the root hash, the salt or the tree changed");
    }

    // Every level against its parent, from the top down, and its padding.
    std::vector<uint8_t> parent(k_block_size);
    for (size_t level = levels; level-- > 0;) {
        uint64_t children = level == 0 ? layout.data_blocks : layout.level_blocks[level - 1];
        for (uint64_t i = 0; i < layout.level_blocks[level]; ++i) {
            uint64_t at = hash.offset + (layout.level_start[level] + i) * k_block_size;
            read_exact(hash.fd, block.data(), k_block_size, at, hash.what);
            uint64_t used = entries_in_block(children, i) * k_digest_size;
            if (!all_zero(block.data() + used, k_block_size - used))
                throw_verify(hash.what + ": hash block " + std::to_string(i) + " of level " +
                             std::to_string(level) + " (offset " +
                             std::to_string(at - hash.offset) + ") has non-zero padding");
            if (level + 1 == levels)
                continue; // the top block was checked against the root hash
            if (i % k_hashes_per_block == 0)
                read_exact(hash.fd, parent.data(), k_block_size,
                           hash.offset + (layout.level_start[level + 1] + i / k_hashes_per_block) *
                                             k_block_size,
                           hash.what);
            hasher.hash(block.data(), digest);
            if (std::memcmp(digest, parent.data() + (i % k_hashes_per_block) * k_digest_size,
                            k_digest_size) != 0)
                throw_verify(hash.what + ": hash block " + std::to_string(i) + " of level " +
                             std::to_string(level) + " (offset " +
                             std::to_string(at - hash.offset) +
                             ") does not match its entry in the level above");
        }
    }

    // Every data block against level 0.
    if (levels > 0) {
        std::vector<uint8_t> in(k_read_chunk);
        for (uint64_t b = 0; b < layout.data_blocks;) {
            uint64_t n = std::min<uint64_t>(k_read_chunk / k_block_size, layout.data_blocks - b);
            read_exact(data.fd, in.data(), n * k_block_size, data.offset + b * k_block_size,
                       data.what);
            for (uint64_t i = 0; i < n; ++i) {
                uint64_t index = b + i;
                if (index % k_hashes_per_block == 0)
                    read_exact(hash.fd, parent.data(), k_block_size,
                               hash.offset + (layout.level_start[0] + index / k_hashes_per_block) *
                                                 k_block_size,
                               hash.what);
                hasher.hash(in.data() + i * k_block_size, digest);
                if (std::memcmp(digest,
                                parent.data() + (index % k_hashes_per_block) * k_digest_size,
                                k_digest_size) != 0)
                    throw_verify(data.what + ": data block " + std::to_string(index) + " (bytes " +
                                 std::to_string(index * k_block_size) + "-" +
                                 std::to_string((index + 1) * k_block_size - 1) +
                                 ") does not match the dm-verity hash tree");
            }
            b += n;
        }
    }

    if (sb.uuid != uuid_for_root_hash(root_hash))
        throw_verify(hash.what + ": the superblock UUID is not the one derived from root hash " +
                     to_hex(root_hash));
    return info;
}

} // namespace sysext::verity

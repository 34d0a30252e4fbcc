#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/verity/hash_tree.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace sysext::verity {

namespace {

// An anonymous read-write file holding `bytes`.
Fd temp_file(const std::vector<uint8_t>& bytes) {
    FILE* f = std::tmpfile();
    Fd fd(::dup(fileno(f)));
    std::fclose(f);
    if (!bytes.empty())
        write_all(fd.get(), bytes.data(), bytes.size(), "temp");
    return fd;
}

std::vector<uint8_t> pattern(size_t blocks) {
    std::vector<uint8_t> v(blocks * k_block_size);
    for (size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<uint8_t>((i * 7 + i / 4096) & 0xff);
    return v;
}

Digest salted(const std::string& salt, const uint8_t* block) {
    Sha256 h;
    h.update(salt);
    h.update(block, k_block_size);
    return h.finish();
}

struct Built {
    Fd data, tree;
    uint64_t data_size, tree_size;
    Digest root;
};

Built build(const std::vector<uint8_t>& bytes, const std::string& salt) {
    Built b{temp_file(bytes), temp_file({}), bytes.size(), 0, {}};
    Region data{b.data.get(), 0, b.data_size, "image"};
    b.root = build_tree(data, salt, b.tree.get(), 0, null_reporter());
    b.tree_size = static_cast<uint64_t>(::lseek(b.tree.get(), 0, SEEK_END));
    return b;
}

void flip(int fd, uint64_t offset) {
    uint8_t byte = 0;
    ASSERT_EQ(::pread(fd, &byte, 1, static_cast<off_t>(offset)), 1);
    byte ^= 0x01;
    ASSERT_EQ(::pwrite(fd, &byte, 1, static_cast<off_t>(offset)), 1);
}

std::string verify_error(const Built& b) {
    try {
        verify_tree({b.data.get(), 0, b.data_size, "image"}, {b.tree.get(), 0, b.tree_size, "tree"},
                    b.root);
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Verify);
        return e.what();
    }
    return "";
}

} // namespace

TEST(VerityLayout, LevelsAndSizes) {
    TreeLayout one = plan_tree(4096, "x");
    EXPECT_EQ(one.level_blocks.size(), 0u);
    EXPECT_EQ(one.total_blocks, 1u); // the superblock only

    TreeLayout full = plan_tree(128 * 4096, "x");
    ASSERT_EQ(full.level_blocks.size(), 1u);
    EXPECT_EQ(full.level_blocks[0], 1u);

    TreeLayout two = plan_tree(129 * 4096, "x");
    ASSERT_EQ(two.level_blocks.size(), 2u);
    EXPECT_EQ(two.level_blocks[0], 2u);
    EXPECT_EQ(two.level_blocks[1], 1u);
    EXPECT_EQ(two.level_start[1], 1u); // the top level comes first
    EXPECT_EQ(two.level_start[0], 2u);
    EXPECT_EQ(two.hash_area_size(), 4u * 4096);

    TreeLayout three = plan_tree((128 * 128 + 1) * 4096ULL, "x");
    ASSERT_EQ(three.level_blocks.size(), 3u);
    EXPECT_EQ(three.level_blocks[0], 129u);
    EXPECT_EQ(three.level_blocks[1], 2u);
    EXPECT_EQ(three.level_blocks[2], 1u);
}

TEST(VerityLayout, RefusesPartialBlocks) {
    try {
        plan_tree(4097, "demo.raw");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_NE(std::string(e.what()).find("demo.raw: size 4097 is not a multiple of 4096"),
                  std::string::npos);
    }
    EXPECT_THROW(plan_tree(0, "x"), Error);
}

TEST(VerityTree, RootHashMatchesTheDefinition) {
    // Two data blocks: one level-0 block holding both hashes, then the root.
    auto bytes = pattern(2);
    std::string salt(32, '\x5a');
    Built b = build(bytes, salt);
    std::vector<uint8_t> level0(k_block_size, 0);
    Digest h0 = salted(salt, bytes.data()), h1 = salted(salt, bytes.data() + k_block_size);
    std::memcpy(level0.data(), h0.data(), 32);
    std::memcpy(level0.data() + 32, h1.data(), 32);
    EXPECT_EQ(to_hex(b.root), to_hex(salted(salt, level0.data())));
    EXPECT_EQ(b.tree_size, 2u * k_block_size);

    std::vector<uint8_t> stored(k_block_size);
    ASSERT_EQ(pread_full(b.tree.get(), stored.data(), stored.size(), k_block_size, "t"),
              stored.size());
    EXPECT_EQ(stored, level0);
}

TEST(VerityTree, SingleBlockRootIsTheBlockHash) {
    auto bytes = pattern(1);
    Built b = build(bytes, "salt");
    EXPECT_EQ(to_hex(b.root), to_hex(salted("salt", bytes.data())));
    EXPECT_EQ(verify_error(b), "");
}

TEST(VerityTree, SameInputSameTree) {
    auto bytes = pattern(300);
    Built a = build(bytes, "s"), b = build(bytes, "s"), c = build(bytes, "t");
    EXPECT_EQ(a.root, b.root);
    EXPECT_NE(a.root, c.root);
    std::vector<uint8_t> ta(a.tree_size), tb(b.tree_size);
    pread_full(a.tree.get(), ta.data(), ta.size(), 0, "a");
    pread_full(b.tree.get(), tb.data(), tb.size(), 0, "b");
    EXPECT_EQ(ta, tb);
}

TEST(VerityTree, VerifiesAndNamesEachKindOfDamage) {
    auto bytes = pattern(300); // three level-0 blocks, one level-1 block
    std::string salt(32, '\x01');
    {
        Built b = build(bytes, salt);
        EXPECT_EQ(verify_error(b), "");
        flip(b.data.get(), 5 * k_block_size + 17);
        EXPECT_EQ(verify_error(b),
                  "image: data block 5 (bytes 20480-24575) does not match the dm-verity hash tree");
    }
    {
        Built b = build(bytes, salt);
        flip(b.tree.get(), 3 * k_block_size + 40); // level 0, block 1, second hash
        EXPECT_NE(verify_error(b).find("hash block 1 of level 0"), std::string::npos);
    }
    {
        Built b = build(bytes, salt);
        flip(b.tree.get(), 4 * k_block_size + 4000); // padding of the last level-0 block
        EXPECT_NE(verify_error(b).find("has non-zero padding"), std::string::npos);
    }
    {
        Built b = build(bytes, salt);
        b.root[3] ^= 1;
        EXPECT_NE(verify_error(b).find("does not match the top of the hash tree"),
                  std::string::npos);
    }
    {
        Built b = build(bytes, salt);
        flip(b.tree.get(), 20); // superblock UUID
        EXPECT_NE(verify_error(b).find("superblock UUID"), std::string::npos);
    }
    {
        Built b = build(bytes, salt);
        flip(b.tree.get(), 600); // after the 512-byte superblock
        EXPECT_NE(verify_error(b).find("non-zero bytes after the dm-verity superblock"),
                  std::string::npos);
    }
}

TEST(VerityTree, ContentSaltIsTheImageHash) {
    auto bytes = pattern(3);
    Fd fd = temp_file(bytes);
    std::string salt = content_salt({fd.get(), 0, bytes.size(), "image"});
    Digest d = sha256(bytes.data(), bytes.size());
    EXPECT_EQ(salt, std::string(reinterpret_cast<const char*>(d.data()), d.size()));
}

} // namespace sysext::verity

// The verifier's deeper checks: payloads whose signature is valid but whose
// content is wrong (a buggy or hostile generator), made by editing a payload's
// manifest or data and signing the result again.
#include "payload/format.hpp"
#include "payload/reader.hpp"
#include "payload/test_support.hpp"
#include "payload/verifier.hpp"
#include "payload/writer.hpp"
#include "sysext/util/error.hpp"

#include <functional>
#include <gtest/gtest.h>

namespace sysext::payload {

using sysext::testing::read_all;
using sysext::testing::TempDir;
using sysext::testing::write_all_to;

namespace {

class PayloadVerifier : public ::testing::Test {
protected:
    // One key for the suite: making RSA keys is the slow part of these tests.
    static void SetUpTestSuite() {
        s_key_dir = new TempDir;
        s_key = sysext::testing::make_rsa_key(*s_key_dir, "key.pem");
    }
    static void TearDownTestSuite() { delete s_key_dir; }

    void SetUp() override {
        signing::KeySpec spec;
        spec.ref = s_key;
        m_keys.push_back(signing::PrivateKey::load(spec));
        m_public.push_back(signing::PublicKey::from_private(m_keys[0]));
        m_image = sysext::testing::make_image_bytes(2 * k_chunk_size + 8192, 4);
        write_all_to(m_dir.path("img"), m_image);
        CreateOptions o;
        o.image = m_dir.path("img");
        o.output = m_dir.path("good.gz");
        o.keys = m_keys;
        create_payload(o, null_reporter());
        m_good = read_all(m_dir.path("good.gz"));
    }

    // Rebuilds the good payload with an edited manifest and/or blob area and signs
    // it again, so that only the deeper checks can catch the edit.
    std::string resigned(const std::function<void(pb::DeltaArchiveManifest&)>& edit_manifest,
                         const std::function<void(std::string&)>& edit_blobs = {},
                         std::vector<uint32_t> versions = {}) {
        PayloadFile f = PayloadFile::open(m_dir.path("good.gz"));
        pb::DeltaArchiveManifest m = f.manifest();
        std::string blobs = m_good.substr(f.blob_start(), m.signatures_offset());
        if (edit_blobs)
            edit_blobs(blobs);
        edit_manifest(m);
        std::string manifest;
        m.SerializeToString(&manifest);
        std::string signed_range = encode_header(manifest.size()) + manifest + blobs;
        std::string sig = signing::sign_sha256_digest(m_keys[0], sysext::sha256(signed_range));
        pb::Signatures sigs;
        auto* s = sigs.add_signatures();
        s->set_version(versions.empty() ? 2 : versions[0]);
        s->set_data(sig);
        std::string blob;
        sigs.SerializeToString(&blob);
        std::string path = m_dir.path("edited.gz");
        write_all_to(path, signed_range + blob);
        return path;
    }

    std::string error_of(const std::string& path) {
        VerifyOptions o;
        o.payload = path;
        o.public_keys = m_public;
        try {
            verify_payload(o, null_reporter());
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Verify);
            return e.what();
        }
        return "(no error)";
    }

    static inline TempDir* s_key_dir = nullptr;
    static inline std::string s_key;
    TempDir m_dir;
    std::vector<signing::PrivateKey> m_keys;
    std::vector<signing::PublicKey> m_public;
    std::string m_image;
    std::string m_good;
};

bool starts(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

} // namespace

TEST_F(PayloadVerifier, AcceptsTheGoodPayloadAndExtractsTheImage) {
    VerifyOptions o;
    o.payload = m_dir.path("good.gz");
    o.public_keys = m_public;
    o.extract = m_dir.path("out.raw");
    o.file_sha256 = sysext::sha256(m_good);
    VerifyResult r = verify_payload(o, null_reporter());
    EXPECT_EQ(read_all(o.extract), m_image);
    EXPECT_EQ(r.image_size, m_image.size());
    EXPECT_EQ(r.operations, 3u);
    ASSERT_EQ(r.matches.size(), 1u);
    EXPECT_EQ(r.matches[0].version, 2u);
    EXPECT_EQ(r.checks.front(), "file hash");
    EXPECT_EQ(r.checks.back(), "image hash");
}

TEST_F(PayloadVerifier, ResigningUnchangedGivesAGoodPayload) {
    // The baseline for the tests below: the edit helper alone breaks nothing.
    EXPECT_EQ(error_of(resigned([](pb::DeltaArchiveManifest&) {})), "(no error)");
}

TEST_F(PayloadVerifier, NamesEachDeeperCheck) {
    std::string p = m_dir.path("edited.gz");
    std::string e;

    e = error_of(resigned([](auto&) {}, [](std::string& b) { b[100] ^= 1; }));
    EXPECT_TRUE(starts(e, p + ": operation hash check failed: operation 0 data hashes to")) << e;

    e = error_of(resigned([](auto& m) {
        std::string h = m.new_partition_info().hash();
        h[0] ^= 1;
        m.mutable_new_partition_info()->set_hash(h);
    }));
    EXPECT_TRUE(starts(e, p + ": image hash check failed: the rebuilt image hashes to")) << e;

    e = error_of(resigned([](auto& m) { m.mutable_new_partition_info()->set_size(3 * k_chunk_size); }));
    EXPECT_TRUE(starts(e, p + ": image size check failed: the operations rebuild")) << e;

    e = error_of(resigned([](auto& m) {
        auto* x = m.mutable_partition_operations(1)->add_dst_extents();
        x->set_start_block(999);
        x->set_num_blocks(1);
    }));
    EXPECT_EQ(e, p + ": operation extents check failed: operation 1 has 2 destination extents; "
                     "the host needs exactly one");

    e = error_of(resigned([](auto& m) {
        m.mutable_partition_operations(1)->mutable_dst_extents(0)->set_start_block(7);
    }));
    EXPECT_TRUE(starts(e, p + ": operation extents check failed: operation 1 writes at block 7")) << e;

    e = error_of(resigned([](auto& m) { m.mutable_partition_operations(2)->set_type(pb::InstallOperation::BSDIFF); }));
    EXPECT_TRUE(starts(e, p + ": operation extents check failed: operation 2 is BSDIFF")) << e;

    e = error_of(resigned([](auto& m) { m.mutable_partition_operations(1)->set_data_offset(5); }));
    EXPECT_TRUE(starts(e, p + ": data offsets check failed: operation 1 data starts at offset 5")) << e;

    e = error_of(resigned([](auto& m) { m.mutable_noop_operations(0)->mutable_dst_extents(0)->set_start_block(0); }));
    EXPECT_TRUE(starts(e, p + ": signature operation check failed")) << e;

    e = error_of(resigned([](auto& m) { m.set_block_size(3000); }));
    EXPECT_TRUE(starts(e, p + ": block size check failed")) << e;

    e = error_of(resigned([](auto&) {}, {}, {1}));
    EXPECT_EQ(e, p + ": signature versions check failed: signature 0 of 1 has version 1, "
                     "expected 2 (the last is version 2)");

    e = error_of(resigned([](auto& m) { m.add_procedures()->set_type(pb::InstallProcedure::KERNEL); }));
    EXPECT_TRUE(starts(e, p + ": procedures check failed")) << e;

    e = error_of(resigned([](auto& m) { m.mutable_partition_operations(0)->clear_data_sha256_hash(); }));
    EXPECT_EQ(e, p + ": operation hash check failed: operation 0 carries no SHA-256 of its data");
}

TEST_F(PayloadVerifier, CorruptBzip2DataWithValidHashesFailsTheDataCheck) {
    // A generator that hashed corrupt data: hash and signature agree, bzip2 does not.
    std::string p = resigned(
        [&](pb::DeltaArchiveManifest& m) {
            PayloadFile f = PayloadFile::open(m_dir.path("good.gz"));
            auto* op = m.mutable_partition_operations(0);
            ASSERT_EQ(op->type(), pb::InstallOperation::REPLACE_BZ);
            std::string data = m_good.substr(f.blob_start() + op->data_offset(), op->data_length());
            data[data.size() / 2] ^= 0x40;
            sysext::Digest h = sysext::sha256(data);
            op->set_data_sha256_hash(h.data(), h.size());
        },
        [&](std::string& blobs) {
            PayloadFile f = PayloadFile::open(m_dir.path("good.gz"));
            const auto& op = f.manifest().partition_operations(0);
            blobs[op.data_offset() + op.data_length() / 2] ^= 0x40;
        });
    std::string e = error_of(p);
    EXPECT_TRUE(starts(e, p + ": operation data check failed: operation 0: ")) << e;
}

// A manifest of more operations than any image needs is refused before it is
// parsed (millions of them parsed into gigabytes), whatever its signature.
TEST_F(PayloadVerifier, TooManyOperationsAreRefusedUnparsed) {
    std::string p = resigned([](pb::DeltaArchiveManifest& m) {
        const pb::InstallOperation op = m.partition_operations(0);
        while (m.partition_operations_size() <= 65536)
            *m.add_partition_operations() = op;
    });
    EXPECT_EQ(error_of(p), p + ": manifest check failed: the manifest holds 65537 or more "
                               "operations; the limit is 65536");
}

TEST_F(PayloadVerifier, HeaderChecksComeFirst) {
    std::string p = m_dir.path("bad.gz");
    std::string bad = m_good;
    bad[0] = 'X';
    write_all_to(p, bad);
    EXPECT_EQ(error_of(p), p + ": magic check failed: the file does not start with \"CrAU\": not "
                               "an update payload");
    bad = m_good;
    bad[11] = 2;
    write_all_to(p, bad);
    EXPECT_EQ(error_of(p), p + ": version check failed: file format version 2 is not the "
                               "supported version 1");
    write_all_to(p, m_good.substr(0, 7));
    EXPECT_EQ(error_of(p), p + ": header check failed: the file has 7 bytes, fewer than the "
                               "20-byte header (truncated?)");
    write_all_to(p, m_good + "x");
    EXPECT_EQ(error_of(p), p + ": file size check failed: 1 byte follows the signatures, which "
                               "must end the file");
}


// Flatcar's generator (update_engine's full_update_generator.cc) declares every
// operation's extent as a whole 1 MiB chunk, the image's last, partial chunk too;
// its clients write only the data. The image here is 2 MiB + 8192 bytes: the
// last operation's data is 2 blocks, its extent may say up to 256.
TEST_F(PayloadVerifier, AcceptsTheLastExtentDeclaredAsAWholeChunk) {
    for (uint64_t blocks : {256u, 3u}) {
        VerifyOptions o;
        o.payload = resigned([&](pb::DeltaArchiveManifest& m) {
            m.mutable_partition_operations(2)->mutable_dst_extents(0)->set_num_blocks(blocks);
        });
        o.public_keys = m_public;
        o.extract = m_dir.path("out.raw");
        VerifyResult r = verify_payload(o, null_reporter());
        EXPECT_EQ(read_all(o.extract), m_image) << blocks;
        EXPECT_EQ(r.image_size, m_image.size());
        EXPECT_EQ(r.checks.back(), "image hash");
    }
}

TEST_F(PayloadVerifier, RefusesExtentsPastTheLastChunk) {
    std::string p = m_dir.path("edited.gz");
    auto last_blocks = [](uint64_t n) {
        return [n](pb::DeltaArchiveManifest& m) {
            m.mutable_partition_operations(2)->mutable_dst_extents(0)->set_num_blocks(n);
        };
    };
    EXPECT_EQ(error_of(resigned(last_blocks(257))),
              p + ": operation extents check failed: operation 2 writes 257 blocks at block 512, "
                  "past the image's 2105344 bytes and the end of its last 1 MiB chunk (block 768)");
    EXPECT_EQ(error_of(resigned(last_blocks(1u << 20))),
              p + ": operation extents check failed: operation 2 writes 1048576 blocks at block "
                  "512, past the image's 2105344 bytes and the end of its last 1 MiB chunk "
                  "(block 768)");
    EXPECT_EQ(error_of(resigned(last_blocks(0))),
              p + ": operation extents check failed: operation 2 writes 0 blocks at block 512: "
                  "an empty extent");
    // Only the last operation may reach past the image's end.
    EXPECT_EQ(error_of(resigned([](pb::DeltaArchiveManifest& m) {
                  m.mutable_partition_operations(1)->mutable_dst_extents(0)->set_num_blocks(300);
              })),
              p + ": operation extents check failed: operation 1 writes 300 blocks at block 256, "
                  "past the image's 2105344 bytes (only the last operation may reach into the rest "
                  "of the image's last 1 MiB chunk)");
}

// The last operation's data must end exactly at the image's end, whatever its
// extent says: ue-rs hashes every byte it writes, update_engine needs them all.
TEST_F(PayloadVerifier, TheLastOperationsDataEndsAtTheImagesEnd) {
    const std::string tail = m_image.substr(2 * k_chunk_size);
    ASSERT_EQ(tail.size(), 8192u);
    // The last operation replaced by a REPLACE of `data` into a whole-chunk extent.
    auto with_last_data = [&](const std::string& data) {
        uint64_t blob_size = 0;
        return resigned(
            [&](pb::DeltaArchiveManifest& m) {
                auto* op = m.mutable_partition_operations(2);
                op->set_type(pb::InstallOperation::REPLACE);
                op->set_data_length(static_cast<uint32_t>(data.size()));
                sysext::Digest h = sysext::sha256(data);
                op->set_data_sha256_hash(h.data(), h.size());
                op->mutable_dst_extents(0)->set_num_blocks(256);
                set_signature_area(m, blob_size, m.signatures_size());
            },
            [&](std::string& blobs) {
                PayloadFile f = PayloadFile::open(m_dir.path("good.gz"));
                blobs = blobs.substr(0, f.manifest().partition_operations(2).data_offset()) + data;
                blob_size = blobs.size();
            });
    };
    std::string p = m_dir.path("edited.gz");
    EXPECT_EQ(error_of(with_last_data(tail)), "(no error)");
    EXPECT_EQ(error_of(with_last_data(tail + std::string(4096, '\0'))),
              p + ": operation data check failed: operation 2 produces more than the 8192 bytes "
                  "up to the image's end");
    EXPECT_EQ(error_of(with_last_data(tail.substr(0, 4096))),
              p + ": operation data check failed: operation 2 produces 4096 bytes, not the 8192 "
                  "bytes up to the image's end");
}

} // namespace sysext::payload

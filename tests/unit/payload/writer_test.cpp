#include "payload/describe.hpp"
#include "payload/reader.hpp"
#include "payload/signer.hpp"
#include "payload/test_support.hpp"
#include "payload/writer.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

namespace sysext::payload {

using sysext::testing::make_image_bytes;
using sysext::testing::read_all;
using sysext::testing::TempDir;
using sysext::testing::write_all_to;

namespace {

class PayloadWriter : public ::testing::Test {
protected:
    void SetUp() override {
        signing::KeySpec spec;
        spec.ref = sysext::testing::make_rsa_key(m_dir, "key.pem");
        m_keys.push_back(signing::PrivateKey::load(spec));
        m_image = make_image_bytes(2 * k_chunk_size + k_chunk_size / 2, 11);
        write_all_to(m_dir.path("img"), m_image);
    }

    CreateResult create(const std::string& out, unsigned jobs = 0) {
        CreateOptions o;
        o.image = m_dir.path("img");
        o.output = m_dir.path(out);
        o.keys = m_keys;
        o.jobs = jobs;
        return create_payload(o, null_reporter());
    }

    std::string error_of(const CreateOptions& o) {
        try {
            create_payload(o, null_reporter());
        } catch (const Error& e) {
            return e.what();
        }
        return "(no error)";
    }

    TempDir m_dir;
    std::vector<signing::PrivateKey> m_keys;
    std::string m_image;
};

} // namespace

TEST_F(PayloadWriter, LaysOutOneOperationPerMebibyte) {
    CreateResult r = create("p.gz");
    EXPECT_EQ(r.operations, 3u);
    EXPECT_EQ(r.signatures, 1u);
    EXPECT_EQ(r.image_hash, sysext::sha256(m_image));

    PayloadFile f = PayloadFile::open(m_dir.path("p.gz"));
    const auto& m = f.manifest();
    EXPECT_EQ(m.block_size(), 4096u);
    ASSERT_EQ(m.partition_operations_size(), 3);
    uint64_t data_offset = 0;
    const std::string file = read_all(m_dir.path("p.gz"));
    for (int i = 0; i < 3; ++i) {
        const auto& op = m.partition_operations(i);
        EXPECT_EQ(op.data_offset(), data_offset);
        ASSERT_EQ(op.dst_extents_size(), 1);
        EXPECT_EQ(op.dst_extents(0).start_block(), static_cast<uint64_t>(i) * 256);
        EXPECT_EQ(op.dst_extents(0).num_blocks(), i < 2 ? 256u : 128u);
        std::string data = file.substr(f.blob_start() + op.data_offset(), op.data_length());
        sysext::Digest h = sysext::sha256(data);
        EXPECT_EQ(op.data_sha256_hash(), std::string(h.begin(), h.end()));
        // Mixed noise and text compresses a little: bzip2 wins, but not by much.
        EXPECT_EQ(op.type(), pb::InstallOperation::REPLACE_BZ);
        data_offset += op.data_length();
    }
    EXPECT_EQ(m.signatures_offset(), data_offset);
    EXPECT_EQ(m.signatures_size(), 264u);
    EXPECT_EQ(m.new_partition_info().size(), m_image.size());
    EXPECT_EQ(f.file_size(), f.blob_start() + data_offset + 264);
    EXPECT_EQ(r.payload_size, f.file_size());

    // The signature is over the SHA-256 of everything before the signature blob.
    sysext::Digest signed_hash = sysext::sha256(file.substr(0, f.signed_size()));
    EXPECT_EQ(r.signed_hash, signed_hash);
    pb::Signatures sigs;
    ASSERT_TRUE(sigs.ParseFromString(f.read_signature_blob()));
    ASSERT_EQ(sigs.signatures_size(), 1);
    EXPECT_EQ(sigs.signatures(0).version(), 2u);
    EXPECT_TRUE(signing::verify_sha256_digest(signing::PublicKey::from_private(m_keys[0]),
                                              signed_hash, sigs.signatures(0).data()));
}

TEST_F(PayloadWriter, DescribeShowsTheManifest) {
    create("p.gz");
    EXPECT_TRUE(looks_like_payload(m_dir.path("p.gz")));
    EXPECT_FALSE(looks_like_payload(m_dir.path("img")));
    PayloadDescription d = describe(m_dir.path("p.gz"));
    EXPECT_EQ(d.data["operations"]["count"], 3);
    EXPECT_EQ(d.data["signatures"]["state"], "signed");
    EXPECT_EQ(d.data["signatures"]["list"][0]["version"], 2);
    EXPECT_EQ(d.data["signatures"]["list"][0]["size"], 256);
    EXPECT_EQ(d.data["new_partition_info"]["sha256"], to_hex(sysext::sha256(m_image)));
    std::string text = d.to_text(true);
    EXPECT_NE(text.find("operations: 3 (3 REPLACE_BZ, 0 REPLACE)"), std::string::npos) << text;
    EXPECT_NE(text.find("signatures: signed, 264 bytes"), std::string::npos) << text;
    EXPECT_NE(text.find("\n  2      REPLACE_BZ"), std::string::npos) << text;
}

TEST_F(PayloadWriter, IncompressibleChunksAreStoredRaw) {
    std::string noise(k_chunk_size, '\0');
    std::string seed = make_image_bytes(65536, 9).substr(0, 65536);
    for (size_t i = 0; i < noise.size(); ++i)
        noise[i] = static_cast<char>(seed[i % seed.size()] ^ static_cast<char>(i * 2654435761u >> 13));
    write_all_to(m_dir.path("img"), noise + std::string(k_chunk_size, 'z'));
    create("p.gz");
    PayloadFile f = PayloadFile::open(m_dir.path("p.gz"));
    EXPECT_EQ(f.manifest().partition_operations(0).type(), pb::InstallOperation::REPLACE);
    EXPECT_EQ(f.manifest().partition_operations(0).data_length(), k_chunk_size);
    EXPECT_EQ(f.manifest().partition_operations(1).type(), pb::InstallOperation::REPLACE_BZ);
    EXPECT_LT(f.manifest().partition_operations(1).data_length(), 1000u);
}

TEST_F(PayloadWriter, SameBytesWhateverTheThreadCount) {
    create("j1.gz", 1);
    create("j4.gz", 4);
    EXPECT_EQ(read_all(m_dir.path("j1.gz")), read_all(m_dir.path("j4.gz")));
}

TEST_F(PayloadWriter, UnsignedPayloadEndsAtTheSignedRangeAndWritesItsHash) {
    CreateOptions o;
    o.image = m_dir.path("img");
    o.output = m_dir.path("u.gz");
    o.reserved_signature_sizes = {256, 256};
    o.hash_file = m_dir.path("u.hash");
    CreateResult r = create_payload(o, null_reporter());
    EXPECT_EQ(r.signatures, 0u);
    std::string file = read_all(m_dir.path("u.gz"));
    EXPECT_EQ(read_all(m_dir.path("u.hash")), std::string(r.signed_hash.begin(), r.signed_hash.end()));
    EXPECT_EQ(sysext::sha256(file), r.signed_hash);
    EXPECT_EQ(signed_range_hash(m_dir.path("u.gz")), r.signed_hash);
    PayloadFile f = PayloadFile::open(m_dir.path("u.gz"));
    EXPECT_TRUE(f.is_unsigned());
    EXPECT_EQ(f.manifest().signatures_size(), 528u);
}

TEST_F(PayloadWriter, RefusesBadImagesAndPlans) {
    CreateOptions o;
    o.image = m_dir.path("odd");
    o.output = m_dir.path("x.gz");
    o.keys = m_keys;
    write_all_to(o.image, std::string(4096 * 3 + 100, 'a'));
    EXPECT_EQ(error_of(o), o.image + ": image size 12388 is not a multiple of 4096 bytes, the "
                                     "payload block size (100 bytes past the last full block)");
    write_all_to(o.image, "");
    EXPECT_EQ(error_of(o), o.image + ": the image is empty");

    o.image = m_dir.path("img");
    o.reserved_signature_sizes = {256};
    EXPECT_EQ(error_of(o), "give keys to sign with or signature sizes to reserve, not both");
    o.keys = {};
    o.reserved_signature_sizes = {};
    EXPECT_NE(error_of(o).find("a payload needs keys"), std::string::npos);
    o.reserved_signature_sizes = {256, 256, 256, 256};
    EXPECT_NE(error_of(o).find("1 to 3 signatures"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(o.output));
}


TEST_F(PayloadWriter, ReservesRoomForRsa2048SignaturesByCount) {
    EXPECT_EQ(rsa2048_signature_sizes(k_default_signatures), (std::vector<size_t>{256, 256}));
    EXPECT_EQ(rsa2048_signature_sizes(3), (std::vector<size_t>{256, 256, 256}));
    for (size_t n : {0u, 4u}) {
        try {
            rsa2048_signature_sizes(n);
            ADD_FAILURE() << n;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Usage);
            EXPECT_EQ(std::string(e.what()), "a payload carries 1 to 3 signatures (their versions "
                                             "count up to 2), not " + std::to_string(n));
        }
    }
}

// attach names a wrong number of signatures as the payload's room for them, and
// a signature of the wrong size by its place, before writing anything.
TEST_F(PayloadWriter, AttachSaysHowManySignaturesThePayloadHasRoomFor) {
    auto unsigned_payload = [&](const std::string& name, std::vector<size_t> sizes) {
        CreateOptions o;
        o.image = m_dir.path("img");
        o.output = m_dir.path(name);
        o.reserved_signature_sizes = std::move(sizes);
        create_payload(o, null_reporter());
        return o.output;
    };
    const std::string two = unsigned_payload("two.gz", rsa2048_signature_sizes(2));
    const std::string one = unsigned_payload("one.gz", rsa2048_signature_sizes(1));
    const std::string big = unsigned_payload("big.gz", {512});
    auto attach_error = [&](const std::string& payload, const std::vector<size_t>& sizes,
                            ErrorKind kind) {
        AttachOptions a;
        a.payload = payload;
        a.output = m_dir.path("signed.gz");
        for (size_t size : sizes)
            a.signatures.emplace_back(size, 's');
        try {
            attach_signatures(a);
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), kind) << e.what();
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    const std::string hint =
        " (one per key it was made for, in key order, the production key's last)";
    EXPECT_EQ(attach_error(two, {256}, ErrorKind::Usage),
              two + ": this payload has room for 2 signatures; you gave 1" + hint);
    EXPECT_EQ(attach_error(two, {256, 256, 256}, ErrorKind::Usage),
              two + ": this payload has room for 2 signatures; you gave 3" + hint);
    EXPECT_EQ(attach_error(two, {256, 256, 256, 256}, ErrorKind::Usage),
              two + ": this payload has room for 2 signatures; you gave 4" + hint);
    EXPECT_EQ(attach_error(one, {256, 256}, ErrorKind::Usage),
              one + ": this payload has room for 1 signature; you gave 2" + hint);
    // A signature of a 4096-bit key for RSA-2048 room, and one cut short.
    EXPECT_EQ(attach_error(two, {512}, ErrorKind::Usage),
              two + ": this payload has room for 2 signatures; you gave 1" + hint);
    EXPECT_EQ(attach_error(two, {256, 512}, ErrorKind::Input),
              two + ": this payload has room for 2 signatures of 256 bytes; signature 2 of 2 has "
                    "512 bytes (made with a key of another size, or cut short?)");
    EXPECT_EQ(attach_error(two, {255, 256}, ErrorKind::Input),
              two + ": this payload has room for 2 signatures of 256 bytes; signature 1 of 2 has "
                    "255 bytes (made with a key of another size, or cut short?)");
    EXPECT_EQ(attach_error(big, {256}, ErrorKind::Input),
              big + ": this payload has room for 1 signature of 512 bytes; signature 1 of 1 has "
                    "256 bytes (made with a key of another size, or cut short?)");
    EXPECT_EQ(attach_error(two, {256, 0}, ErrorKind::Input), two + ": signature 2 of 2 is empty");
    EXPECT_FALSE(std::filesystem::exists(m_dir.path("signed.gz")));
    EXPECT_EQ(attach_error(two, {256, 256}, ErrorKind::Usage), "(no error)");
}

} // namespace sysext::payload

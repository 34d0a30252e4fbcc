#include "payload/format.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

namespace sysext::payload {

TEST(PayloadFormat, HeaderIsMagicAndTwoBigEndianWords) {
    std::string h = encode_header(0x0102030405060708ull);
    ASSERT_EQ(h.size(), 20u);
    EXPECT_EQ(h, std::string("CrAU\0\0\0\0\0\0\0\x01\x01\x02\x03\x04\x05\x06\x07\x08", 20));
}

TEST(PayloadFormat, SignatureVersionsEndAtTwo) {
    EXPECT_EQ(signature_version(0, 1), 2u);
    EXPECT_EQ(signature_version(0, 2), 1u);
    EXPECT_EQ(signature_version(1, 2), 2u);
    EXPECT_EQ(signature_version(0, 3), 0u);
    EXPECT_EQ(signature_version(2, 3), 2u);
    EXPECT_THROW(signature_version(0, 4), Error);
    EXPECT_THROW(signature_version(0, 0), Error);
}

TEST(PayloadFormat, SignatureBlobGoldenBytes) {
    // Signatures { signatures { version: 2 data: "ab" } }:
    // 0a 06 (field 1, 6 bytes) 08 02 (version 2) 12 02 61 62 (data "ab").
    EXPECT_EQ(encode_signatures({"ab"}), std::string("\x0a\x06\x08\x02\x12\x02" "ab", 8));
    std::string two = encode_signatures({"x", "yz"});
    EXPECT_EQ(two, std::string("\x0a\x05\x08\x01\x12\x01x\x0a\x06\x08\x02\x12\x02yz", 15));
}

TEST(PayloadFormat, ReservedSizeMatchesRealSignatures) {
    EXPECT_EQ(signatures_blob_size({256}), encode_signatures({std::string(256, 'S')}).size());
    EXPECT_EQ(signatures_blob_size({256, 256}),
              encode_signatures({std::string(256, 'a'), std::string(256, '\xff')}).size());
    // Two 256-byte RSA-2048 signatures: 2 x (tag, length 2 bytes, version 2 bytes,
    // data tag, length 2 bytes, 256 bytes) = 2 x 264.
    EXPECT_EQ(signatures_blob_size({256, 256}), 528u);
    EXPECT_EQ(signatures_blob_size({512}), 520u);
    EXPECT_THROW(signatures_blob_size({0}), Error);
}

TEST(PayloadFormat, SignatureAreaAndDummyOperation) {
    pb::DeltaArchiveManifest m;
    m.set_block_size(k_block_size);
    set_signature_area(m, 123456, 528);
    EXPECT_EQ(m.signatures_offset(), 123456u);
    EXPECT_EQ(m.signatures_size(), 528u);
    ASSERT_EQ(m.noop_operations_size(), 1);
    const auto& op = m.noop_operations(0);
    EXPECT_EQ(op.type(), pb::InstallOperation::REPLACE);
    EXPECT_EQ(op.data_offset(), 123456u);
    EXPECT_EQ(op.data_length(), 528u);
    ASSERT_EQ(op.dst_extents_size(), 1);
    EXPECT_EQ(op.dst_extents(0).start_block(), UINT64_MAX);
    EXPECT_EQ(op.dst_extents(0).num_blocks(), 1u);
    set_signature_area(m, 10, 4097); // replaces, does not add
    ASSERT_EQ(m.noop_operations_size(), 1);
    EXPECT_EQ(m.noop_operations(0).dst_extents(0).num_blocks(), 2u);
}

TEST(PayloadFormat, OperationTypeNames) {
    EXPECT_EQ(operation_type_name(0), "REPLACE");
    EXPECT_EQ(operation_type_name(1), "REPLACE_BZ");
    EXPECT_EQ(operation_type_name(3), "BSDIFF");
    EXPECT_EQ(operation_type_name(9), "type 9");
}

} // namespace sysext::payload

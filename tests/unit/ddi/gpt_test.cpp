#include "sysext/ddi/gpt.hpp"
#include "sysext/ddi/partition_types.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>

namespace sysext::ddi {

namespace {

Fd temp_disk(uint64_t sectors) {
    FILE* f = std::tmpfile();
    Fd fd(::dup(fileno(f)));
    std::fclose(f);
    EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(sectors * k_sector_size)), 0);
    return fd;
}

GptDisk sample() {
    GptDisk d;
    d.disk_guid = derive_uuid("disk", "seed");
    d.sectors = 4096;
    GptPartition p;
    p.type = partition_types("x86-64", Designator::Root).data;
    p.uuid = Uuid::parse("a84d4f69-eee5-c5e7-5c8b-93f034e786ad");
    p.name = "demo";
    p.first_lba = 2048;
    p.last_lba = 2048 + 7;
    p.attributes = k_attr_read_only;
    d.partitions.push_back(p);
    return d;
}

} // namespace

TEST(Gpt, Crc32CheckValue) {
    EXPECT_EQ(crc32("123456789", 9), 0xcbf43926u);
}

TEST(Uuid, TextAndGptByteOrder) {
    Uuid u = Uuid::parse("8484680c-9521-48c6-9c11-b0720656f69e");
    EXPECT_EQ(u.to_string(), "8484680c-9521-48c6-9c11-b0720656f69e");
    auto gpt = u.to_gpt_bytes();
    const uint8_t expect[16] = {0x0c, 0x68, 0x84, 0x84, 0x21, 0x95, 0xc6, 0x48,
                                0x9c, 0x11, 0xb0, 0x72, 0x06, 0x56, 0xf6, 0x9e};
    EXPECT_TRUE(std::equal(gpt.begin(), gpt.end(), expect));
    EXPECT_EQ(Uuid::from_gpt_bytes(gpt.data()), u);
    EXPECT_THROW(Uuid::parse("8484680c-9521-48c6-9c11-b0720656f69"), Error);
    EXPECT_THROW(Uuid::parse("8484680c+9521-48c6-9c11-b0720656f69e"), Error);
}

TEST(Uuid, DerivedUuidsAreStableVersion4) {
    Uuid a = derive_uuid("disk", "abc"), b = derive_uuid("disk", "abc");
    EXPECT_EQ(a, b);
    EXPECT_NE(a, derive_uuid("partition", "abc"));
    EXPECT_EQ(a.to_string()[14], '4');
    EXPECT_NE(std::string("89ab").find(a.to_string()[19]), std::string::npos);
}

TEST(PartitionTypes, KnownAndUnknownArchitectures) {
    EXPECT_EQ(partition_types("arm64", Designator::Usr).verity.to_string(),
              "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e");
    EXPECT_EQ(partition_types("x86-64", Designator::Usr).verity_sig.to_string(),
              "e7bb33fb-06cf-4e81-8273-e543b413e2e2");
    EXPECT_EQ(partition_types("x86-64", Designator::Root).data.to_string(),
              "4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
    EXPECT_EQ(partition_types("arm64", Designator::Root).verity_sig.to_string(),
              "6db69de6-29f4-4758-a7a5-962190f00ce3");
    std::string name;
    const PartitionTypes* t =
        find_by_any_type(Uuid::parse("2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"), &name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(name, "root-x86-64-verity");
    EXPECT_EQ(find_by_data_type(t->verity), nullptr);
    EXPECT_EQ(find_by_data_type(t->data), t);
    try {
        partition_types("x86_64", Designator::Root);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        EXPECT_NE(std::string(e.what()).find("did you mean \"x86-64\""), std::string::npos);
    }
}

TEST(Gpt, WritesAndReadsBack) {
    GptDisk d = sample();
    Fd fd = temp_disk(d.sectors);
    write_gpt(fd.get(), d, "disk");
    EXPECT_TRUE(looks_like_gpt(fd.get()));
    GptDisk back = read_gpt(fd.get(), d.sectors * k_sector_size, "disk");
    EXPECT_EQ(back.disk_guid, d.disk_guid);
    ASSERT_EQ(back.partitions.size(), 1u);
    EXPECT_EQ(back.partitions[0].uuid, d.partitions[0].uuid);
    EXPECT_EQ(back.partitions[0].name, "demo");
    EXPECT_EQ(back.partitions[0].attributes, k_attr_read_only);
    EXPECT_EQ(back.partitions[0].first_lba, 2048u);
}

TEST(Gpt, NamesDamage) {
    GptDisk d = sample();
    auto damaged = [&](uint64_t offset) {
        Fd fd = temp_disk(d.sectors);
        write_gpt(fd.get(), d, "disk");
        uint8_t byte = 0;
        EXPECT_EQ(::pread(fd.get(), &byte, 1, static_cast<off_t>(offset)), 1);
        byte ^= 0x40;
        EXPECT_EQ(::pwrite(fd.get(), &byte, 1, static_cast<off_t>(offset)), 1);
        try {
            read_gpt(fd.get(), d.sectors * k_sector_size, "disk");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_EQ(damaged(512 + 60), "disk: primary GPT header fails its CRC32 check");
    EXPECT_EQ(damaged(1024 + 20), "disk: the primary GPT partition entries fail their CRC32 check");
    EXPECT_EQ(damaged((d.sectors - 1) * 512 + 60), "disk: backup GPT header fails its CRC32 check");
    EXPECT_EQ(damaged((d.sectors - 33) * 512 + 20),
              "disk: the backup GPT partition entries differ from the primary ones");
    EXPECT_EQ(damaged(450), "disk: no protective MBR");
}

TEST(Gpt, RefusesOverlaps) {
    GptDisk d = sample();
    d.partitions.push_back(d.partitions[0]);
    Fd fd = temp_disk(d.sectors);
    EXPECT_THROW(write_gpt(fd.get(), d, "disk"), Error);
}

} // namespace sysext::ddi

// GUID Partition Tables: writing one, and reading one back strictly.
//
// Layout per the UEFI specification (chapter 5, "GUID Partition Table Disk
// Layout") with 512-byte sectors: a protective MBR in LBA 0, the primary header
// in LBA 1 and its 128 entries of 128 bytes in LBAs 2-33, and the same entries and
// a backup header in the last 33 sectors. Both headers and the entry array carry
// CRC32s. Every field is a function of the layout given, so the same layout
// always gives the same bytes.
#pragma once

#include "sysext/ddi/uuid.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sysext::ddi {

inline constexpr uint64_t k_sector_size = 512;
inline constexpr uint32_t k_entry_count = 128;
inline constexpr uint32_t k_entry_size = 128;
// Sectors the partition table takes at each end: the header (and MBR) plus 32 of entries.
inline constexpr uint64_t k_table_sectors = 1 + k_entry_count * k_entry_size / k_sector_size;
inline constexpr uint64_t k_first_usable_lba = 1 + k_table_sectors;
inline constexpr size_t k_name_units = 36; // UTF-16 code units in a partition name

// Partition attribute bits (Discoverable Partitions Specification).
inline constexpr uint64_t k_attr_read_only = 1ULL << 60;
inline constexpr uint64_t k_attr_no_auto = 1ULL << 63;

struct GptPartition {
    Uuid type;
    Uuid uuid;
    std::string name; // ASCII, at most k_name_units characters
    uint64_t first_lba = 0;
    uint64_t last_lba = 0; // inclusive
    uint64_t attributes = 0;

    uint64_t offset() const { return first_lba * k_sector_size; }
    uint64_t size() const { return (last_lba - first_lba + 1) * k_sector_size; }
};

struct GptDisk {
    Uuid disk_guid;
    uint64_t sectors = 0; // size of the whole disk image in sectors
    std::vector<GptPartition> partitions;

    uint64_t last_usable_lba() const { return sectors - k_table_sectors - 1; }
};

// The IEEE 802.3 CRC32 that GPT uses.
uint32_t crc32(const void* data, size_t size);

// Writes MBR, primary and backup tables into an image of disk.sectors sectors.
// Partition contents are the caller's. Throws Usage on an inconsistent layout.
void write_gpt(int fd, const GptDisk& disk, const std::string& what);

// Reads and checks a table: MBR signature, both headers, all CRCs, and that the
// backup agrees with the primary. Throws a Verify error naming what is wrong.
GptDisk read_gpt(int fd, uint64_t file_size, const std::string& what);

// Whether the file starts like a GPT disk ("EFI PART" in LBA 1).
bool looks_like_gpt(int fd);

} // namespace sysext::ddi

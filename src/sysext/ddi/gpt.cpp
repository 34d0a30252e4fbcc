#include "sysext/ddi/gpt.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/endian.hpp"
#include "sysext/util/fd.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace sysext::ddi {

namespace {

constexpr char k_signature[8] = {'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T'};
constexpr uint32_t k_revision = 0x00010000;
constexpr uint32_t k_header_size = 92;
constexpr size_t k_entries_bytes = size_t{k_entry_count} * k_entry_size;

void pread_exact(int fd, void* data, size_t size, uint64_t offset, const std::string& what) {
    if (pread_full(fd, data, size, static_cast<off_t>(offset), what) != size)
        throw_verify(what + ": ends inside its partition table");
}

std::vector<uint8_t> encode_entries(const GptDisk& disk) {
    std::vector<uint8_t> out(k_entries_bytes, 0);
    for (size_t i = 0; i < disk.partitions.size(); ++i) {
        const GptPartition& p = disk.partitions[i];
        uint8_t* e = out.data() + i * k_entry_size;
        auto type = p.type.to_gpt_bytes();
        auto uuid = p.uuid.to_gpt_bytes();
        std::memcpy(e, type.data(), 16);
        std::memcpy(e + 16, uuid.data(), 16);
        put_le(e + 32, p.first_lba, 8);
        put_le(e + 40, p.last_lba, 8);
        put_le(e + 48, p.attributes, 8);
        for (size_t c = 0; c < p.name.size(); ++c)
            put_le(e + 56 + 2 * c, static_cast<uint8_t>(p.name[c]), 2); // ASCII as UTF-16LE
    }
    return out;
}

std::array<uint8_t, k_sector_size> encode_header(const GptDisk& disk, bool primary,
                                                 uint32_t entries_crc) {
    std::array<uint8_t, k_sector_size> h{};
    uint64_t last = disk.sectors - 1;
    std::memcpy(h.data(), k_signature, 8);
    put_le(h.data() + 8, k_revision, 4);
    put_le(h.data() + 12, k_header_size, 4);
    put_le(h.data() + 24, primary ? 1 : last, 8);
    put_le(h.data() + 32, primary ? last : 1, 8);
    put_le(h.data() + 40, k_first_usable_lba, 8);
    put_le(h.data() + 48, disk.last_usable_lba(), 8);
    auto guid = disk.disk_guid.to_gpt_bytes();
    std::memcpy(h.data() + 56, guid.data(), 16);
    put_le(h.data() + 72, primary ? 2 : last - (k_table_sectors - 1), 8);
    put_le(h.data() + 80, k_entry_count, 4);
    put_le(h.data() + 84, k_entry_size, 4);
    put_le(h.data() + 88, entries_crc, 4);
    put_le(h.data() + 16, crc32(h.data(), k_header_size), 4);
    return h;
}

std::array<uint8_t, k_sector_size> protective_mbr(uint64_t sectors) {
    std::array<uint8_t, k_sector_size> m{};
    uint8_t* e = m.data() + 446;
    e[1] = 0x00; // CHS of LBA 1: head 0, sector 2, cylinder 0
    e[2] = 0x02;
    e[4] = 0xee; // GPT protective
    e[5] = e[6] = e[7] = 0xff;
    put_le(e + 8, 1, 4);
    put_le(e + 12, std::min<uint64_t>(sectors - 1, 0xffffffff), 4);
    m[510] = 0x55;
    m[511] = 0xaa;
    return m;
}

void check_layout(const GptDisk& disk) {
    if (disk.partitions.size() > k_entry_count)
        throw_usage("too many partitions for one GPT");
    if (disk.sectors < 2 * k_table_sectors + 2)
        throw_usage("disk image too small for a GPT");
    uint64_t next = k_first_usable_lba;
    for (const GptPartition& p : disk.partitions) {
        if (p.first_lba < next || p.last_lba < p.first_lba || p.last_lba > disk.last_usable_lba())
            throw_usage("GPT partition \"" + p.name + "\" overlaps or lies outside the disk");
        if (p.name.size() > k_name_units)
            throw_usage("GPT partition name longer than 36 characters: " + p.name);
        for (char c : p.name)
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
                throw_usage("GPT partition name is not printable ASCII: " + p.name);
        next = p.last_lba + 1;
    }
}

struct Header {
    uint64_t my_lba, alternate_lba, first_usable, last_usable, entries_lba;
    uint32_t entry_count, entry_size, entries_crc;
    Uuid disk_guid;
};

Header decode_header(const uint8_t* h, const std::string& what, const char* which) {
    std::string where = what + ": " + which + " GPT header";
    if (std::memcmp(h, k_signature, 8) != 0)
        throw_verify(where + " has no \"EFI PART\" signature");
    if (get_le(h + 8, 4) != k_revision || get_le(h + 12, 4) != k_header_size)
        throw_verify(where + " has an unexpected revision or size");
    std::array<uint8_t, k_header_size> copy{};
    std::memcpy(copy.data(), h, k_header_size);
    put_le(copy.data() + 16, 0, 4);
    if (crc32(copy.data(), k_header_size) != get_le(h + 16, 4))
        throw_verify(where + " fails its CRC32 check");
    if (get_le(h + 20, 4) != 0 ||
        !std::all_of(h + k_header_size, h + k_sector_size, [](uint8_t b) { return b == 0; }))
        throw_verify(where + " has non-zero reserved bytes");
    Header r{};
    r.my_lba = get_le(h + 24, 8);
    r.alternate_lba = get_le(h + 32, 8);
    r.first_usable = get_le(h + 40, 8);
    r.last_usable = get_le(h + 48, 8);
    r.disk_guid = Uuid::from_gpt_bytes(h + 56);
    r.entries_lba = get_le(h + 72, 8);
    r.entry_count = static_cast<uint32_t>(get_le(h + 80, 4));
    r.entry_size = static_cast<uint32_t>(get_le(h + 84, 4));
    r.entries_crc = static_cast<uint32_t>(get_le(h + 88, 4));
    if (r.entry_count != k_entry_count || r.entry_size != k_entry_size)
        throw_verify(where + " does not describe 128 entries of 128 bytes");
    return r;
}

} // namespace

uint32_t crc32(const void* data, size_t size) {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    uint32_t crc = 0xffffffffu;
    auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

void write_gpt(int fd, const GptDisk& disk, const std::string& what) {
    check_layout(disk);
    std::vector<uint8_t> entries = encode_entries(disk);
    uint32_t entries_crc = crc32(entries.data(), entries.size());
    uint64_t last = disk.sectors - 1;
    auto mbr = protective_mbr(disk.sectors);
    auto primary = encode_header(disk, true, entries_crc);
    auto backup = encode_header(disk, false, entries_crc);
    pwrite_all(fd, mbr.data(), mbr.size(), 0, what);
    pwrite_all(fd, primary.data(), primary.size(), k_sector_size, what);
    pwrite_all(fd, entries.data(), entries.size(), 2 * k_sector_size, what);
    pwrite_all(fd, entries.data(), entries.size(), (last - (k_table_sectors - 1)) * k_sector_size,
               what);
    pwrite_all(fd, backup.data(), backup.size(), last * k_sector_size, what);
}

bool looks_like_gpt(int fd) {
    char sig[8];
    return pread_full(fd, sig, sizeof sig, k_sector_size, "disk image") == sizeof sig &&
           std::memcmp(sig, k_signature, sizeof sig) == 0;
}

GptDisk read_gpt(int fd, uint64_t file_size, const std::string& what) {
    if (file_size % k_sector_size != 0 || file_size < (2 * k_table_sectors + 2) * k_sector_size)
        throw_verify(what + ": size " + std::to_string(file_size) +
                     " is not that of a GPT disk image");
    GptDisk disk;
    disk.sectors = file_size / k_sector_size;
    uint64_t last = disk.sectors - 1;
    std::array<uint8_t, k_sector_size> sector{};
    pread_exact(fd, sector.data(), sector.size(), 0, what);
    if (sector[510] != 0x55 || sector[511] != 0xaa || sector[446 + 4] != 0xee)
        throw_verify(what + ": no protective MBR");
    if (sector != protective_mbr(disk.sectors))
        throw_verify(what + ": the protective MBR differs from the one GPT prescribes");

    pread_exact(fd, sector.data(), sector.size(), k_sector_size, what);
    Header primary = decode_header(sector.data(), what, "primary");
    pread_exact(fd, sector.data(), sector.size(), last * k_sector_size, what);
    Header backup = decode_header(sector.data(), what, "backup");
    if (primary.my_lba != 1 || primary.alternate_lba != last || backup.my_lba != last ||
        backup.alternate_lba != 1 || primary.entries_lba != 2 ||
        backup.entries_lba != last - (k_table_sectors - 1))
        throw_verify(what + ": GPT headers do not point at each other and the disk's end");
    if (primary.first_usable != k_first_usable_lba ||
        primary.last_usable != disk.last_usable_lba() ||
        backup.first_usable != primary.first_usable || backup.last_usable != primary.last_usable ||
        !(backup.disk_guid == primary.disk_guid) || backup.entries_crc != primary.entries_crc)
        throw_verify(what + ": the backup GPT header disagrees with the primary one");
    disk.disk_guid = primary.disk_guid;

    std::vector<uint8_t> entries(k_entries_bytes), backup_entries(k_entries_bytes);
    pread_exact(fd, entries.data(), entries.size(), 2 * k_sector_size, what);
    pread_exact(fd, backup_entries.data(), backup_entries.size(),
                backup.entries_lba * k_sector_size, what);
    if (crc32(entries.data(), entries.size()) != primary.entries_crc)
        throw_verify(what + ": the primary GPT partition entries fail their CRC32 check");
    if (entries != backup_entries)
        throw_verify(what + ": the backup GPT partition entries differ from the primary ones");

    for (uint32_t i = 0; i < k_entry_count; ++i) {
        const uint8_t* e = entries.data() + size_t{i} * k_entry_size;
        GptPartition p;
        p.type = Uuid::from_gpt_bytes(e);
        if (p.type.is_null())
            continue;
        p.uuid = Uuid::from_gpt_bytes(e + 16);
        p.first_lba = get_le(e + 32, 8);
        p.last_lba = get_le(e + 40, 8);
        p.attributes = get_le(e + 48, 8);
        for (size_t c = 0; c < k_name_units; ++c) {
            auto unit = static_cast<uint16_t>(get_le(e + 56 + 2 * c, 2));
            if (unit == 0)
                break;
            p.name += unit < 0x80 ? static_cast<char>(unit) : '?';
        }
        if (p.first_lba < k_first_usable_lba || p.last_lba < p.first_lba ||
            p.last_lba > disk.last_usable_lba())
            throw_verify(what + ": GPT partition " + std::to_string(i + 1) +
                         " lies outside the usable area");
        disk.partitions.push_back(p);
    }
    return disk;
}

} // namespace sysext::ddi

#include "payload/reader.hpp"

#include "sysext/util/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace sysext::payload {

namespace {

uint64_t get_be64(const std::string& bytes, size_t at) {
    uint64_t value = 0;
    for (size_t i = 0; i < 8; ++i)
        value = (value << 8) | static_cast<uint8_t>(bytes[at + i]);
    return value;
}

std::string bytes_text(uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

// Bounds that keep a corrupt size field or a hostile manifest from making us
// allocate gigabytes (a 63 MB manifest of millions of operations parsed into
// 3.9 GB). A manifest describes 4 GiB of data (the format's limit) in well
// under 1 MiB: our writer's operations cover 1 MiB each, 4,096 for 4 GiB.
constexpr uint64_t k_max_manifest_size = 4ull << 20;
constexpr int k_max_operations = 65536;
constexpr uint64_t k_max_signatures_size = 1ull << 20;

// Operations in a serialized DeltaArchiveManifest, counted on the wire format
// without parsing (stops counting past the limit; damage ends the count and is
// left to the parser).
int count_operations(std::string_view m) {
    int ops = 0;
    size_t at = 0;
    auto varint = [&](uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64 && at < m.size(); shift += 7) {
            const auto b = static_cast<uint8_t>(m[at++]);
            v |= uint64_t{b & 0x7fu} << shift;
            if (!(b & 0x80))
                return true;
        }
        return false;
    };
    while (at < m.size() && ops <= k_max_operations) {
        uint64_t key = 0, len = 0;
        if (!varint(key))
            break;
        switch (key & 7) {
        case 0:
            if (!varint(len))
                return ops;
            break;
        case 1: at += 8; break;
        case 5: at += 4; break;
        case 2:
            if (!varint(len) || len > m.size() - at)
                return ops;
            if ((key >> 3) == 1 || (key >> 3) == 2)
                ++ops;
            at += len;
            break;
        default: return ops;
        }
    }
    return ops;
}

} // namespace

void fail_check(const std::string& path, const std::string& check, const std::string& detail) {
    throw_verify(path + ": " + check + " check failed: " + detail);
}

PayloadFile PayloadFile::open(const std::string& path) {
    PayloadFile file(path, open_or_throw(path, O_RDONLY));
    struct stat st {};
    if (::fstat(file.fd(), &st) != 0)
        throw_errno(path);
    if (!S_ISREG(st.st_mode))
        throw_input(path + ": not a regular file");
    file.m_file_size = static_cast<uint64_t>(st.st_size);

    if (file.m_file_size < k_header_size)
        fail_check(path, "header", "the file has " + bytes_text(file.m_file_size) +
                                       ", fewer than the " + std::to_string(k_header_size) +
                                       "-byte header (truncated?)");
    std::string header = file.read_at(0, k_header_size, "header");
    if (std::string_view(header).substr(0, 4) != k_magic)
        fail_check(path, "magic", "the file does not start with \"CrAU\": not an update payload");
    file.m_version = get_be64(header, 4);
    if (file.m_version != k_format_version)
        fail_check(path, "version", "file format version " + std::to_string(file.m_version) +
                                        " is not the supported version 1");
    file.m_manifest_size = get_be64(header, 12);
    if (file.m_manifest_size > k_max_manifest_size)
        fail_check(path, "manifest size",
                   "the header announces a " + bytes_text(file.m_manifest_size) +
                       " manifest, more than any payload has (corrupt header?)");
    if (file.m_manifest_size > file.m_file_size - k_header_size)
        fail_check(path, "manifest size",
                   "the header announces a " + bytes_text(file.m_manifest_size) +
                       " manifest but only " + bytes_text(file.m_file_size - k_header_size) +
                       " follow the header (truncated?)");
    std::string manifest =
        file.read_at(k_header_size, static_cast<size_t>(file.m_manifest_size), "manifest size");
    // Counted on the wire before parsing: field 1 (partition_operations) and 2
    // (noop_operations) of DeltaArchiveManifest, one length-delimited record each.
    if (const int ops = count_operations(manifest); ops > k_max_operations)
        fail_check(path, "manifest",
                   "the manifest holds " + std::to_string(ops) + " or more operations; the limit is " +
                       std::to_string(k_max_operations));
    // ParsePartial + IsInitialized: the plain Parse logs missing required fields to
    // stderr itself, and a library does not print.
    if (!file.m_manifest.ParsePartialFromString(manifest))
        fail_check(path, "manifest", "the manifest is not a valid DeltaArchiveManifest protobuf");
    if (!file.m_manifest.IsInitialized())
        fail_check(path, "manifest",
                   "the manifest lacks required fields: " +
                       file.m_manifest.InitializationErrorString());
    return file;
}

bool PayloadFile::has_signature_area() const {
    return m_manifest.has_signatures_offset() && m_manifest.has_signatures_size();
}

uint64_t PayloadFile::signed_size() const {
    if (!has_signature_area())
        fail_check(m_path, "signature area",
                   "the manifest names no signature offset and size: the payload is not signable");
    uint64_t offset = m_manifest.signatures_offset();
    if (offset > m_file_size - blob_start())
        fail_check(m_path, "file size",
                   "the manifest puts the signatures at " + bytes_text(blob_start() + offset) +
                       " into the payload, but the file has " + bytes_text(m_file_size) +
                       " (truncated?)");
    return blob_start() + offset;
}

std::string PayloadFile::read_signature_blob() const {
    uint64_t start = signed_size();
    uint64_t size = m_manifest.signatures_size();
    if (size > k_max_signatures_size)
        fail_check(m_path, "signature area",
                   "the manifest announces " + bytes_text(size) +
                       " of signatures, more than any payload has");
    if (m_file_size == start)
        fail_check(m_path, "signatures",
                   "the payload is unsigned: the file ends where its signatures should start");
    if (size > m_file_size - start)
        fail_check(m_path, "file size",
                   "the manifest says the payload is " + bytes_text(start + size) +
                       " long, but the file has " + bytes_text(m_file_size) + " (truncated?)");
    if (start + size != m_file_size)
        fail_check(m_path, "file size",
                   bytes_text(m_file_size - start - size) +
                       (m_file_size - start - size == 1 ? " follows" : " follow") +
                       " the signatures, which must end the file");
    return read_at(start, static_cast<size_t>(size), "signatures");
}

std::string PayloadFile::read_at(uint64_t offset, size_t size, const std::string& check) const {
    std::string out(size, '\0');
    size_t got = pread_full(m_fd.get(), out.data(), size, static_cast<off_t>(offset), m_path);
    if (got != size)
        fail_check(m_path, check,
                   "the file ends at " + bytes_text(offset + got) + ", inside " +
                       bytes_text(size) + " expected at offset " + std::to_string(offset));
    return out;
}

} // namespace sysext::payload

// Opening a payload: the header and manifest checks every reader makes first.
//
// The checks follow what Flatcar's clients do before anything else (ue-rs
// delta_update, update_engine delta_metadata.cc): at least a header's worth of
// bytes, magic "CrAU", format version 1, a manifest that lies inside the file and
// parses. Each failure names its check: "PATH: magic check failed: ...".
#pragma once

#include "payload/format.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"

#include <cstdint>
#include <string>

namespace sysext::payload {

// Throws a Verify error "<path>: <check> check failed: <detail>".
[[noreturn]] void fail_check(const std::string& path, const std::string& check,
                             const std::string& detail);

class PayloadFile {
public:
    static PayloadFile open(const std::string& path);

    const std::string& path() const { return m_path; }
    int fd() const { return m_fd.get(); }
    uint64_t file_size() const { return m_file_size; }
    uint64_t format_version() const { return m_version; }
    uint64_t manifest_size() const { return m_manifest_size; }
    // Where the data blobs start; every data_offset counts from here.
    uint64_t blob_start() const { return k_header_size + m_manifest_size; }
    const pb::DeltaArchiveManifest& manifest() const { return m_manifest; }

    // Whether the manifest names a signature area at all.
    bool has_signature_area() const;
    // The end of the signed range (= where the signature blob starts); needs the area.
    uint64_t signed_size() const;
    // The file holds exactly the signed range: signatures are still to be attached.
    bool is_unsigned() const { return has_signature_area() && m_file_size == signed_size(); }
    // Checks the signature area lies inside the file (the "signature area" and "file
    // size" checks), then reads it.
    std::string read_signature_blob() const;

    // Reads `size` bytes at `offset`, failing `check` if the file ends first.
    std::string read_at(uint64_t offset, size_t size, const std::string& check) const;

private:
    PayloadFile(std::string path, Fd fd) : m_path(std::move(path)), m_fd(std::move(fd)) {}

    std::string m_path;
    Fd m_fd;
    uint64_t m_file_size = 0;
    uint64_t m_version = 0;
    uint64_t m_manifest_size = 0;
    pb::DeltaArchiveManifest m_manifest;
};

} // namespace sysext::payload

#include "sysext/ddi/disk_image.hpp"

#include "sysext/ddi/verity_sig.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>
#include <vector>

namespace sysext::ddi {

namespace {

constexpr uint64_t k_first_partition_lba = 2048; // 1 MiB, the usual alignment grain
static_assert(verity::k_block_size % k_sector_size == 0 && k_first_partition_lba % 8 == 0,
              "partitions must stay on 4096-byte boundaries");

std::string partition_label(const std::string& base, const std::string& suffix) {
    std::string name = base.substr(0, k_name_units - suffix.size());
    for (char& c : name)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            c = '_';
    return name + suffix;
}

void copy_region(const verity::Region& from, int to_fd, uint64_t to_offset,
                 const std::string& to_what) {
    std::vector<char> buf(1 << 20);
    for (uint64_t done = 0; done < from.size;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), from.size - done));
        if (pread_full(from.fd, buf.data(), n, static_cast<off_t>(from.offset + done), from.what) !=
            n)
            throw_input(from.what + ": changed size while being read");
        pwrite_all(to_fd, buf.data(), n, to_offset + done, to_what);
        done += n;
    }
}

Uuid uuid_from_bytes(const uint8_t* p) {
    Uuid u;
    std::memcpy(u.bytes.data(), p, 16);
    return u;
}

} // namespace

DdiResult write_ddi(const DdiRequest& req, Reporter& reporter) {
    const UsrPartitionTypes& types = usr_partition_types(req.arch);
    verity::TreeLayout layout = verity::plan_tree(req.image.size, req.image.what);
    AtomicFile out(req.out_path, 0644);

    GptPartition usr, hash, sig;
    usr.type = types.usr;
    usr.name = partition_label(req.label, "");
    usr.first_lba = k_first_partition_lba;
    usr.last_lba = usr.first_lba + req.image.size / k_sector_size - 1;
    hash.type = types.usr_verity;
    hash.name = partition_label(req.label, "-verity");
    hash.first_lba = usr.last_lba + 1;
    hash.last_lba = hash.first_lba + layout.hash_area_size() / k_sector_size - 1;
    // The read-only flag is recommended for verity and signature partitions, and
    // an extension's /usr is never written either.
    usr.attributes = hash.attributes = sig.attributes = k_attr_read_only;

    reporter.stage("copying the image into the disk image");
    copy_region(req.image, out.fd(), usr.offset(), req.out_path);
    reporter.stage("computing the dm-verity hash tree");
    verity::Region data{out.fd(), usr.offset(), req.image.size, req.out_path + ": usr partition"};
    DdiResult result;
    result.root_hash = verity::build_tree(data, req.salt, out.fd(), hash.offset(), reporter);
    std::string root_hex = to_hex(result.root_hash);
    usr.uuid = uuid_from_bytes(result.root_hash.data());
    hash.uuid = uuid_from_bytes(result.root_hash.data() + 16);

    reporter.stage("signing the root hash");
    std::string sig_content =
        encode_verity_signature({root_hex, req.certificate_fingerprint, req.sign(root_hex)});
    sig.type = types.usr_verity_sig;
    sig.uuid = derive_uuid("usr-verity-sig partition", root_hex);
    sig.name = partition_label(req.label, "-verity-sig");
    sig.first_lba = hash.last_lba + 1;
    sig.last_lba = sig.first_lba + sig_content.size() / k_sector_size - 1;
    pwrite_all(out.fd(), sig_content.data(), sig_content.size(), sig.offset(), req.out_path);

    GptDisk& disk = result.disk;
    disk.disk_guid = derive_uuid("disk", root_hex);
    disk.sectors = sig.last_lba + 1 + k_table_sectors;
    disk.partitions = {usr, hash, sig};
    if (::ftruncate(out.fd(), static_cast<off_t>(disk.sectors * k_sector_size)) != 0)
        throw_errno(req.out_path);
    write_gpt(out.fd(), disk, req.out_path);
    out.commit(true);
    return result;
}

UsrPartitions find_usr_partitions(const GptDisk& disk, const std::string& what) {
    UsrPartitions parts;
    int usr_count = 0;
    for (const auto& p : disk.partitions)
        if (const UsrPartitionTypes* t = find_by_usr_type(p.type)) {
            parts.types = t;
            parts.usr = p;
            ++usr_count;
        }
    if (usr_count == 0)
        throw_verify(what + ": no /usr partition of a known architecture");
    if (usr_count > 1)
        throw_verify(what + ": more than one /usr partition");
    int verity_count = 0, sig_count = 0;
    for (const auto& p : disk.partitions) {
        if (p.type == parts.types->usr_verity) {
            parts.verity = p;
            ++verity_count;
        } else if (p.type == parts.types->usr_verity_sig) {
            parts.signature = p;
            ++sig_count;
        }
    }
    std::string arch(parts.types->arch);
    if (verity_count != 1)
        throw_verify(what + ": " + (verity_count ? "more than one" : "no") + " " + arch +
                     " usr-verity partition");
    if (sig_count != 1)
        throw_verify(what + ": " + (sig_count ? "more than one" : "no") + " " + arch +
                     " usr-verity-sig partition");
    return parts;
}

} // namespace sysext::ddi

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
    const PartitionTypes& types = partition_types(req.arch, req.designator);
    verity::TreeLayout layout = verity::plan_tree(req.image.size, req.image.what);
    AtomicFile out(req.out_path, 0644);

    GptPartition fs, hash, sig; // fs: the data partition (root, or usr by designator)
    fs.type = types.data;
    fs.name = partition_label(req.label, "");
    fs.first_lba = k_first_partition_lba;
    fs.last_lba = fs.first_lba + req.image.size / k_sector_size - 1;
    hash.type = types.verity;
    hash.name = partition_label(req.label, "-verity");
    hash.first_lba = fs.last_lba + 1;
    hash.last_lba = hash.first_lba + layout.hash_area_size() / k_sector_size - 1;
    // The read-only flag is recommended for verity and signature partitions, and
    // an extension's tree is never written either.
    fs.attributes = hash.attributes = sig.attributes = k_attr_read_only;

    const std::string kind(designator_name(req.designator));
    reporter.stage("copying the image into the disk image");
    copy_region(req.image, out.fd(), fs.offset(), req.out_path);
    reporter.stage("computing the dm-verity hash tree");
    verity::Region data{out.fd(), fs.offset(), req.image.size,
                        req.out_path + ": " + kind + " partition"};
    DdiResult result;
    result.root_hash = verity::build_tree(data, req.salt, out.fd(), hash.offset(), reporter);
    std::string root_hex = to_hex(result.root_hash);
    fs.uuid = uuid_from_bytes(result.root_hash.data());
    hash.uuid = uuid_from_bytes(result.root_hash.data() + 16);

    reporter.stage("signing the root hash");
    std::string sig_content =
        encode_verity_signature({root_hex, req.certificate_fingerprint, req.sign(root_hex)});
    sig.type = types.verity_sig;
    // The derivation's label is part of the format: it stays "usr-..." for the
    // root layout too, so that only the type GUIDs tell the layouts apart.
    sig.uuid = derive_uuid("usr-verity-sig partition", root_hex);
    sig.name = partition_label(req.label, "-verity-sig");
    sig.first_lba = hash.last_lba + 1;
    sig.last_lba = sig.first_lba + sig_content.size() / k_sector_size - 1;
    pwrite_all(out.fd(), sig_content.data(), sig_content.size(), sig.offset(), req.out_path);

    GptDisk& disk = result.disk;
    disk.disk_guid = derive_uuid("disk", root_hex);
    // The disk ends on a 4096-byte boundary, as systemd-repart's grain leaves
    // it: Flatcar's update payloads carry whole 4 KiB blocks only.
    const uint64_t grain = verity::k_block_size / k_sector_size;
    disk.sectors = (sig.last_lba + 1 + k_table_sectors + grain - 1) / grain * grain;
    disk.partitions = {fs, hash, sig};
    if (::ftruncate(out.fd(), static_cast<off_t>(disk.sectors * k_sector_size)) != 0)
        throw_errno(req.out_path);
    write_gpt(out.fd(), disk, req.out_path);
    out.commit(true);
    return result;
}

std::string DataPartitions::data_name() const {
    return std::string(designator_name(types->designator)) + "-" + std::string(types->arch);
}

DataPartitions find_data_partitions(const GptDisk& disk, const std::string& what) {
    DataPartitions parts;
    int data_count = 0;
    for (const auto& p : disk.partitions)
        if (const PartitionTypes* t = find_by_data_type(p.type)) {
            parts.types = t;
            parts.data = p;
            ++data_count;
        }
    if (data_count == 0)
        throw_verify(what + ": no root or usr partition of a known architecture");
    if (data_count > 1)
        throw_verify(what + ": more than one root or usr partition");
    int verity_count = 0, sig_count = 0;
    for (const auto& p : disk.partitions) {
        if (p.type == parts.types->verity) {
            parts.verity = p;
            ++verity_count;
        } else if (p.type == parts.types->verity_sig) {
            parts.signature = p;
            ++sig_count;
        }
    }
    const std::string name = parts.data_name();
    if (verity_count != 1)
        throw_verify(what + ": " + (verity_count ? "more than one" : "no") + " " + name +
                     "-verity partition");
    if (sig_count != 1)
        throw_verify(what + ": " + (sig_count ? "more than one" : "no") + " " + name +
                     "-verity-sig partition");
    return parts;
}

std::string usr_partition_problem(const DataPartitions& parts, const std::string& what) {
    if (parts.types->designator == Designator::Root)
        return {};
    return what + ": the tree is in a " + parts.data_name() +
           " partition, which systemd mounts at /usr, so usr/lib/extension-release.d/ would be "
           "/usr/usr/lib/extension-release.d/ and systemd-sysext cannot merge the image (disk "
           "images of system extensions use root partitions; sign the image again)";
}

} // namespace sysext::ddi

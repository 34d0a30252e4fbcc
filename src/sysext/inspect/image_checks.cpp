// dm-verity and signature checks for inspect, on the formats of
// verity/hash_tree.hpp (tree), verity/signed_image.hpp (sidecar names) and
// ddi/verity_sig.hpp (signature partition). Unlike `verify`, a certificate is
// optional: without one the signature is checked with the certificate it
// carries, and reported as not trusted.
#include "sysext/inspect/image_checks.hpp"

#include "sysext/ddi/disk_image.hpp"
#include "sysext/ddi/partition_types.hpp"
#include "sysext/ddi/verity_sig.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"
#include "sysext/verity/hash_tree.hpp"
#include "sysext/verity/image_check.hpp"
#include "sysext/verity/signed_image.hpp"

#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <sys/stat.h>

namespace sysext::inspect {

namespace {

bool exists(const std::string& path) {
    std::error_code ec;
    return std::filesystem::exists(path, ec);
}

// The canonical root hash form we write and systemd reads: 64 lowercase hex digits.
std::optional<Digest> parse_root_hash(const std::string& hex) {
    if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
        return std::nullopt;
    std::string raw = from_hex(hex);
    Digest d{};
    std::memcpy(d.data(), raw.data(), d.size());
    return d;
}

void fail_verity(Inspection& r, const std::string& detail) {
    r.verity.status = "failed";
    r.verity.detail = detail;
    r.problems.push_back("verity: " + detail);
}

void verify(Inspection& r, const verity::Region& data, const verity::Region& hash,
            const Digest& root) {
    try {
        verity::TreeInfo info = verity::verify_tree(data, hash, root);
        r.verity.status = "verified";
        r.verity.detail = std::to_string(info.layout.data_blocks) + " data blocks verified";
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Verify && e.kind() != ErrorKind::Input)
            throw;
        fail_verity(r, e.what());
    }
}

void check_signature_into(Inspection& r, std::string_view der, const signing::Certificate* trusted,
                          const std::string& what) {
    r.signature = check_signature(der, r.verity.root_hash, trusted, what);
    if (r.signature.failed())
        r.problems.push_back("signature: " + r.signature.detail);
}

void no_signature(Inspection& r, const signing::Certificate* trusted, const std::string& expected) {
    r.signature.status = "none";
    r.signature.detail = "no " + expected;
    if (trusted != nullptr)
        r.problems.push_back("signature: no " + expected + ", but --cert asks for one signed by " +
                             trusted->source());
}

std::string partition_type_name(const ddi::Uuid& type) {
    std::string name;
    if (ddi::find_by_any_type(type, &name) != nullptr)
        return name;
    return type.to_string();
}

const std::string* release_architecture(const Inspection& r) {
    for (const auto& f : r.releases) {
        auto it = f.fields.find("ARCHITECTURE");
        if (f.matches_image && it != f.fields.end())
            return &it->second;
    }
    return nullptr;
}

} // namespace

void check_sidecars(Inspection& r, const signing::Certificate* trusted) {
    if (!ends_with(r.path, ".raw")) {
        no_signature(r, trusted, "sidecar files (they are looked for next to NAME.raw only)");
        return;
    }
    const std::string stem = verity::sidecar_stem(r.path);
    const std::string roothash = stem + ".roothash", tree = stem + ".verity",
                      p7s = stem + ".roothash.p7s";
    if (!exists(roothash) && !exists(tree) && !exists(p7s)) {
        r.verity.detail = "no " + roothash + " or " + tree;
        no_signature(r, trusted, p7s);
        return;
    }
    std::optional<Digest> root;
    if (!exists(roothash)) {
        fail_verity(r, "no " + roothash + " next to " + tree + " or " + p7s);
    } else {
        std::string text = read_regular_file(roothash, verity::k_max_roothash_file, ErrorKind::Verify);
        if (!text.empty() && text.back() == '\n')
            text.pop_back();
        root = parse_root_hash(text);
        if (root)
            r.verity.root_hash = text;
        else
            fail_verity(r, roothash + ": not one line holding a lowercase hex SHA-256 root hash");
    }
    if (root && !exists(tree)) {
        fail_verity(r, "no " + tree + " for root hash " + r.verity.root_hash);
    } else if (root) {
        Fd image = open_or_throw(r.path, O_RDONLY | O_CLOEXEC);
        Fd hash = open_or_throw(tree, O_RDONLY | O_CLOEXEC);
        verify(r, {image.get(), 0, file_size(image.get(), r.path), r.path},
               {hash.get(), 0, file_size(hash.get(), tree), tree}, *root);
    }
    if (!exists(p7s)) {
        no_signature(r, trusted, p7s);
    } else if (!root) {
        r.signature.status = "invalid";
        r.signature.detail = p7s + ": not checked: no valid root hash";
        r.problems.push_back("signature: " + r.signature.detail);
    } else {
        check_signature_into(r, read_regular_file(p7s, verity::k_max_signature_file, ErrorKind::Verify), trusted, p7s);
    }
}

void inspect_disk_image(Inspection& r, const signing::Certificate* trusted) {
    Fd fd = open_or_throw(r.path, O_RDONLY | O_CLOEXEC);
    const uint64_t size = file_size(fd.get(), r.path);
    ddi::GptDisk disk;
    ddi::DataPartitions parts;
    try {
        disk = ddi::read_gpt(fd.get(), size, r.path);
        for (const auto& p : disk.partitions)
            r.partitions.push_back(
                {p.name, partition_type_name(p.type), p.uuid.to_string(), p.offset(), p.size()});
        parts = ddi::find_data_partitions(disk, r.path);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Verify && e.kind() != ErrorKind::Input)
            throw;
        r.problems.push_back(std::string("partitions: ") + e.what());
        return;
    }
    const std::string arch(parts.types->arch);
    const std::string data_what = r.path + ": " + parts.data_name() + " partition";
    if (std::string problem = ddi::usr_partition_problem(parts, r.path); !problem.empty())
        r.problems.push_back("partitions: " + problem);
    inspect_contents(r, parts.data.offset(), parts.data.size());
    const std::string* release_arch = release_architecture(r);
    if (release_arch != nullptr && *release_arch != "_any" && *release_arch != arch)
        r.problems.push_back("release: ARCHITECTURE=" + *release_arch +
                             " but the partitions are for " + arch);

    const std::string sig_what = r.path + ": " + parts.data_name() + "-verity-sig partition";
    ddi::VeritySignature sig;
    std::optional<Digest> root;
    try {
        if (parts.signature.size() > verity::k_max_signature_partition)
            throw_verify(sig_what + ": " + std::to_string(parts.signature.size()) +
                         " bytes; the limit for a verity signature partition is " +
                         std::to_string(verity::k_max_signature_partition));
        std::string content(parts.signature.size(), '\0');
        if (pread_full(fd.get(), content.data(), content.size(),
                       static_cast<off_t>(parts.signature.offset()), r.path) != content.size())
            throw_verify(sig_what + ": ends early");
        sig = ddi::decode_verity_signature(content, sig_what);
        // As verify: no byte of the partition goes unchecked.
        if (ddi::encode_verity_signature(sig) != content)
            throw_verify(sig_what + ": not in the canonical form (changed JSON text or padding)");
        root = parse_root_hash(sig.root_hash_hex);
        if (!root)
            throw_verify(sig_what + ": rootHash is not a lowercase hex SHA-256");
        r.verity.root_hash = sig.root_hash_hex;
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Verify)
            throw;
        r.signature.status = "invalid";
        r.signature.detail = e.what();
        fail_verity(r, e.what());
        return;
    }
    if (std::memcmp(parts.data.uuid.bytes.data(), root->data(), 16) != 0 ||
        std::memcmp(parts.verity.uuid.bytes.data(), root->data() + 16, 16) != 0)
        r.problems.push_back("verity: partition UUIDs " + parts.data.uuid.to_string() + " and " +
                             parts.verity.uuid.to_string() + " are not the halves of root hash " +
                             sig.root_hash_hex + "; systemd would not pair them");
    verify(
        r, {fd.get(), parts.data.offset(), parts.data.size(), data_what},
        {fd.get(), parts.verity.offset(), parts.verity.size(),
         r.path + ": " + parts.data_name() + "-verity partition"},
        *root);
    check_signature_into(r, sig.signature_der, trusted, sig_what);
    if (!r.signature.fingerprint.empty() &&
        sig.certificate_fingerprint_hex != r.signature.fingerprint) {
        r.signature.status = "invalid";
        r.problems.push_back("signature: " + sig_what + ": certificateFingerprint " +
                             quote(sig.certificate_fingerprint_hex) + " is not the signer's (" +
                             r.signature.fingerprint + ")");
    }
}

} // namespace sysext::inspect

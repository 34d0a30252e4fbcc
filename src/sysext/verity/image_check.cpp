#include "sysext/verity/image_check.hpp"

#include "signing/pkcs7.hpp"
#include "sysext/ddi/disk_image.hpp"
#include "sysext/ddi/verity_sig.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"
#include "sysext/verity/release_probe.hpp"
#include "sysext/verity/signed_image.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <sys/stat.h>

namespace sysext::verity {

namespace {

// Runs one check, recording its result instead of stopping at the first failure.
bool run_check(ImageReport& report, const std::string& name,
               const std::function<std::string()>& body) {
    Check c{name, false, {}};
    try {
        c.detail = body();
        c.ok = true;
    } catch (const Error& e) {
        c.detail = e.what();
    }
    report.checks.push_back(c);
    return c.ok;
}

// A root hash as systemd reads it, but only in the canonical form we write.
Digest parse_root_hash(const std::string& hex, const std::string& what) {
    if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw_verify(what + ": not a lowercase hex SHA-256 root hash");
    std::string raw = from_hex(hex);
    Digest d{};
    std::memcpy(d.data(), raw.data(), d.size());
    return d;
}

void check_release(ImageReport& report, const Region& fs, const std::string& name) {
    run_check(report, "release", [&] {
        ExtensionRelease release = find_extension_release(fs, name);
        report.release_file = release.file_name;
        std::string arch = release.value("ARCHITECTURE");
        if (!report.arch.empty() && !arch.empty() && arch != "_any" && arch != report.arch)
            throw_verify(fs.what + ": " + release.file_name + " says ARCHITECTURE=" +
                         quote_untrusted(arch) + " but the partitions are for " + report.arch);
        return release.file_name;
    });
}

void check_sidecars(ImageReport& report, int fd, const signing::Certificate& cert) {
    const std::string& path = report.path;
    Region image{fd, 0, file_size(fd, path), path};
    check_release(report, image, image_name_from_path(path));
    std::string stem = sidecar_stem(path);
    Digest root{};
    bool have_root = run_check(report, "root hash", [&] {
        std::string text = read_regular_file(stem + ".roothash", k_max_roothash_file, ErrorKind::Verify);
        if (text.empty() || text.back() != '\n' || text.find('\n') != text.size() - 1)
            throw_verify(stem + ".roothash: not one line");
        report.root_hash_hex = text.substr(0, text.size() - 1);
        root = parse_root_hash(report.root_hash_hex, stem + ".roothash");
        return report.root_hash_hex;
    });
    run_check(report, "verity tree", [&] {
        if (!have_root)
            throw_verify("not checked: no valid root hash");
        Fd tree = open_or_throw(stem + ".verity", O_RDONLY);
        Region hash{tree.get(), 0, file_size(tree.get(), stem + ".verity"), stem + ".verity"};
        TreeInfo info = verify_tree(image, hash, root);
        return std::to_string(info.layout.data_blocks) + " data blocks verified";
    });
    run_check(report, "signature", [&] {
        std::string sig = read_regular_file(stem + ".roothash.p7s", k_max_signature_file, ErrorKind::Verify);
        if (!have_root)
            throw_verify("not checked: no valid root hash");
        signing::pkcs7_verify_detached(sig, report.root_hash_hex, cert, stem + ".roothash.p7s");
        return "signed by " + cert.subject();
    });
}

void check_zero(int fd, uint64_t from, uint64_t to, const std::string& what) {
    std::vector<uint8_t> buf(1 << 16);
    for (uint64_t at = from; at < to;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), to - at));
        if (pread_full(fd, buf.data(), n, static_cast<off_t>(at), what) != n)
            throw_verify(what + ": ends early");
        auto bad = std::find_if(buf.begin(), buf.begin() + static_cast<long>(n),
                                [](uint8_t b) { return b != 0; });
        if (bad != buf.begin() + static_cast<long>(n))
            throw_verify(what + ": non-zero byte at offset " +
                         std::to_string(at + static_cast<uint64_t>(bad - buf.begin())) +
                         ", outside every partition");
        at += n;
    }
}

void check_ddi(ImageReport& report, int fd, const signing::Certificate& cert) {
    const std::string& path = report.path;
    uint64_t size = file_size(fd, path);
    ddi::GptDisk disk;
    ddi::DataPartitions parts;
    if (!run_check(report, "partition table", [&] {
            disk = ddi::read_gpt(fd, size, path);
            parts = ddi::find_data_partitions(disk, path);
            if (std::string problem = ddi::usr_partition_problem(parts, path); !problem.empty())
                throw_verify(problem);
            report.arch = std::string(parts.types->arch);
            uint64_t used_from = ddi::k_first_usable_lba * ddi::k_sector_size;
            for (const auto& p : disk.partitions) {
                check_zero(fd, used_from, p.offset(), path);
                used_from = p.offset() + p.size();
            }
            check_zero(fd, used_from, (disk.last_usable_lba() + 1) * ddi::k_sector_size, path);
            const std::string n = parts.data_name();
            return "GPT with " + n + ", " + n + "-verity and " + n + "-verity-sig";
        }))
        return;
    const std::string part_what = path + ": " + parts.data_name();
    Region data{fd, parts.data.offset(), parts.data.size(), part_what + " partition"};
    check_release(report, data, image_name_from_path(path));

    std::string sig_what = part_what + "-verity-sig partition";
    ddi::VeritySignature sig;
    Digest root{};
    bool have_root = run_check(report, "root hash", [&] {
        if (parts.signature.size() > verity::k_max_signature_partition)
            throw_verify(sig_what + ": " + std::to_string(parts.signature.size()) +
                         " bytes; the limit for a verity signature partition is " +
                         std::to_string(verity::k_max_signature_partition));
        std::string content(parts.signature.size(), '\0');
        if (pread_full(fd, content.data(), content.size(),
                       static_cast<off_t>(parts.signature.offset()), path) != content.size())
            throw_verify(sig_what + ": ends early");
        sig = ddi::decode_verity_signature(content, sig_what);
        if (ddi::encode_verity_signature(sig) != content)
            throw_verify(sig_what + ": not in the canonical form (changed JSON text)");
        report.root_hash_hex = sig.root_hash_hex;
        root = parse_root_hash(sig.root_hash_hex, sig_what + ": rootHash");
        if (std::memcmp(parts.data.uuid.bytes.data(), root.data(), 16) != 0 ||
            std::memcmp(parts.verity.uuid.bytes.data(), root.data() + 16, 16) != 0)
            throw_verify(path + ": partition UUIDs " + parts.data.uuid.to_string() + " and " +
                         parts.verity.uuid.to_string() + " are not the halves of root hash " +
                         sig.root_hash_hex);
        return sig.root_hash_hex;
    });
    run_check(report, "verity tree", [&] {
        if (!have_root)
            throw_verify("not checked: no valid root hash");
        Region hash{fd, parts.verity.offset(), parts.verity.size(),
                    part_what + "-verity partition"};
        TreeInfo info = verify_tree(data, hash, root);
        return std::to_string(info.layout.data_blocks) + " data blocks verified";
    });
    run_check(report, "signature", [&] {
        if (!have_root)
            throw_verify("not checked: no valid root hash");
        if (sig.certificate_fingerprint_hex != cert.fingerprint_sha256())
            throw_verify(sig_what + ": certificateFingerprint " +
                         quote(sig.certificate_fingerprint_hex) + " is not that of " +
                         cert.source() + " (" + cert.fingerprint_sha256() + ")");
        signing::pkcs7_verify_detached(sig.signature_der, sig.root_hash_hex, cert, sig_what);
        return "signed by " + cert.subject();
    });
}

} // namespace

bool ImageReport::ok() const {
    return !checks.empty() &&
           std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.ok; });
}

std::vector<std::string> ImageReport::problems() const {
    std::vector<std::string> out;
    for (const auto& c : checks)
        if (!c.ok)
            out.push_back(c.name + ": " + c.detail);
    return out;
}

ImageReport check_signed_image(const std::string& path, const signing::Certificate& cert) {
    ImageReport report;
    report.path = path;
    Fd fd = open_or_throw(path, O_RDONLY);
    if (ddi::looks_like_gpt(fd.get())) {
        report.kind = "ddi";
        check_ddi(report, fd.get(), cert);
    } else {
        report.kind = "sidecar";
        check_sidecars(report, fd.get(), cert);
    }
    return report;
}

} // namespace sysext::verity

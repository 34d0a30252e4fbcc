#include "sysext/verity/signed_image.hpp"

#include "signing/pkcs7.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"
#include "sysext/verity/release_probe.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace sysext::verity {

namespace {

std::string choose_arch(const SignRequest& req, const ExtensionRelease& release) {
    std::string declared = release.value("ARCHITECTURE");
    if (declared == "_any")
        declared.clear();
    if (!req.arch.empty()) {
        if (!declared.empty() && declared != req.arch)
            throw_usage(req.image_path + ": " + release.file_name +
                        " says ARCHITECTURE=" + declared + ", but --arch is " + req.arch);
        return req.arch;
    }
    if (declared.empty())
        throw_usage(req.image_path + ": " + release.file_name +
                    " names no architecture; pass --arch for the disk image's partition types");
    return declared;
}

std::string choose_salt(const SignRequest& req, const Region& image) {
    if (req.salt_hex.empty())
        return content_salt(image);
    std::string salt = from_hex(req.salt_hex);
    if (salt.size() > k_max_salt_size)
        throw_usage("--salt: at most 256 bytes (512 hex digits)");
    return salt;
}

} // namespace

ddi::RootHashSigner pkcs7_signer(const signing::PrivateKey& key, const signing::Certificate& cert) {
    if (!cert.matches(key.get()))
        throw_usage(cert.source() + ": certificate does not belong to " + key.description());
    return [&key, &cert](std::string_view root_hash_hex) {
        return signing::pkcs7_sign_detached(key.get(), key.description(), cert, root_hash_hex);
    };
}

std::string sidecar_stem(const std::string& image_path) {
    if (!ends_with(image_path, ".raw"))
        throw_usage(image_path + ": sidecar files need an image named NAME.raw (systemd looks " +
                    "for NAME.verity, NAME.roothash and NAME.roothash.p7s next to it)");
    return image_path.substr(0, image_path.size() - 4);
}

SignResult sign_image(const SignRequest& req, Reporter& reporter) {
    Fd fd = open_or_throw(req.image_path, O_RDONLY);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw_errno(req.image_path);
    if (!S_ISREG(st.st_mode))
        throw_input(req.image_path + ": not a regular file");
    Region image{fd.get(), 0, static_cast<uint64_t>(st.st_size), req.image_path};
    TreeLayout layout = plan_tree(image.size, image.what);
    const std::string stem = req.ddi_path.empty() ? sidecar_stem(req.image_path) : "";

    // systemd matches the release file against the name the image is installed
    // under: the disk image's name when writing one.
    reporter.stage("checking release metadata");
    const std::string& installed = req.ddi_path.empty() ? req.image_path : req.ddi_path;
    ExtensionRelease release;
    try {
        release = find_extension_release(image, image_name_from_path(installed));
    } catch (const Error& e) {
        throw_input(std::string("refusing to sign: ") + e.what());
    }
    SignResult result;
    result.data_blocks = layout.data_blocks;

    if (!req.ddi_path.empty()) {
        result.arch = choose_arch(req, release);
        reporter.stage("computing the salt");
        std::string salt = choose_salt(req, image);
        result.salt_hex = to_hex(salt.data(), salt.size());
        ddi::DdiRequest ddi_req{image,
                                req.ddi_path,
                                result.arch,
                                image_name_from_path(req.ddi_path),
                                salt,
                                req.sign,
                                req.certificate_fingerprint};
        ddi::DdiResult ddi = ddi::write_ddi(ddi_req, reporter);
        result.root_hash_hex = to_hex(ddi.root_hash);
        result.outputs.push_back(req.ddi_path);
        return result;
    }

    reporter.stage("computing the salt");
    std::string salt = choose_salt(req, image);
    result.salt_hex = to_hex(salt.data(), salt.size());
    reporter.stage("computing the dm-verity hash tree");
    AtomicFile tree(stem + ".verity", 0644);
    Digest root = build_tree(image, salt, tree.fd(), 0, reporter);
    result.root_hash_hex = to_hex(root);
    reporter.stage("signing the root hash");
    std::string signature = req.sign(result.root_hash_hex);

    AtomicFile roothash(stem + ".roothash", 0644);
    roothash.write(result.root_hash_hex + "\n");
    AtomicFile p7s(stem + ".roothash.p7s", 0644);
    p7s.write(signature);
    // The signature goes into place last: until then nothing claims to be signed.
    for (AtomicFile* f : {&tree, &roothash, &p7s}) {
        f->commit(true);
        result.outputs.push_back(f->final_path());
    }
    return result;
}

} // namespace sysext::verity

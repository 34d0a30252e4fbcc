#include "sysext/publish/from_image.hpp"

#include "sysext/image/reader.hpp"
#include "sysext/inspect/inspect.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <sys/stat.h>

namespace sysext::publish {

namespace {

constexpr std::string_view k_release_prefix = "extension-release.";

bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += (out.empty() ? "" : "; ") + l;
    return out;
}

} // namespace

PublishResult publish_image(const PublishImageOptions& o, Reporter& reporter) {
    if (o.target.empty())
        throw_usage("publish: --target is needed (the release directory's first level)");
    reporter.stage("inspecting " + o.image);
    inspect::InspectOptions io;
    io.path = o.image;
    io.cert = o.cert;
    const inspect::Inspection ins = inspect::inspect(io);
    if (ins.kind != "squashfs" && ins.kind != "erofs" && ins.kind != "disk-image")
        throw_input(o.image + ": a " + ins.kind + " is not an extension image");
    if (!ins.ok())
        throw MultiError(ins.verity.status == "failed" || ins.signature.failed() ? ErrorKind::Verify
                                                                                 : ErrorKind::Input,
                         ins.problems);
    if (ins.releases.size() != 1)
        throw_input(o.image + ": " + std::to_string(ins.releases.size()) +
                    " extension-release files; publishing needs exactly one");
    const inspect::ReleaseFile& rel = ins.releases.front();

    PublishRequest r;
    r.release_dir = o.release_dir;
    r.base_url = o.base_url;
    r.on_update = o.on_update;
    r.gpg = o.gpg;
    r.name = rel.name.substr(k_release_prefix.size());
    r.target = o.target;
    r.image = o.image;
    r.ddi = ins.kind == "disk-image";
    r.lock = o.lock;
    r.profile = o.profile;
    r.payload = o.payload;
    r.payload_hash_file = o.payload_hash_file;
    auto field = [&](const char* key) {
        auto it = rel.fields.find(key);
        return it == rel.fields.end() ? std::string() : it->second;
    };
    r.version = o.version.empty() ? field("SYSEXT_VERSION_ID") : o.version;
    if (r.version.empty())
        throw_usage("publish: " + o.image + " has no SYSEXT_VERSION_ID; give --version");
    r.architecture = o.architecture.empty() ? field("ARCHITECTURE") : o.architecture;
    if (r.architecture.empty() || r.architecture == "_any")
        throw_usage("publish: " + o.image + " names no architecture; give --arch");
    r.release_text = image::read_image_file(o.image, "usr/lib/extension-release.d/" + rel.name,
                                               1 << 16, ins.image_offset, ins.image_size);
    if (ins.verity.status == "verified") {
        r.root_hash = ins.verity.root_hash;
        r.certificate_fingerprint = ins.signature.fingerprint;
        if (!r.ddi) {
            std::string stem =
                ends_with(o.image, ".raw") ? o.image.substr(0, o.image.size() - 4) : o.image;
            for (const char* suffix : {".verity", ".roothash", ".roothash.p7s"})
                if (exists(stem + suffix))
                    r.sidecars.push_back(stem + suffix);
        }
    }
    if (!ins.notes.empty())
        reporter.info(o.image + ": " + joined(ins.notes));
    return publish(r, reporter);
}

} // namespace sysext::publish

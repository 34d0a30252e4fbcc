#include "sysext/pipeline/pack.hpp"

#include "sysext/source/package_source.hpp"
#include "sysext/source/directory.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"
#include "sysext/validate/validate.hpp"

#include <algorithm>
#include <sys/stat.h>

namespace sysext::pipeline {

namespace {

void read_source(tree::Tree& tree, const PackOptions& o, std::vector<std::string>& problems,
                 Reporter& reporter) {
    struct stat st;
    if (::stat(o.source.c_str(), &st) != 0)
        throw_errno(o.source);
    if (S_ISDIR(st.st_mode))
        source::add_directory(tree, o.source, o.source_options, problems, reporter);
    else
        source::add_package(tree, o.source, o.source_options, problems, reporter);
}

void add_release(tree::Tree& tree, const std::string& name, const release::Fields& fields,
                 std::vector<std::string>& problems, uint32_t mtime) {
    const std::string path = release::release_path(name);
    if (const tree::Node* existing = tree.find(path)) {
        problems.push_back(path + ": the source already has one (from " + existing->origin +
                           "); drop the release flags or remove the file");
        return;
    }
    for (auto& p : release::check(fields, "release flags"))
        problems.push_back(std::move(p));
    auto text = std::make_shared<std::string>(release::render(fields));
    tree.ensure_dir("usr/lib/extension-release.d");
    tree::Node n;
    n.type = tree::NodeType::File;
    n.mode = 0644;
    n.mtime = mtime;
    n.origin = "generated";
    n.content = {tree::Content::Kind::Inline, "", text, nullptr, 0, text->size()};
    tree.add(path, std::move(n));
}

} // namespace

PackResult pack(const PackOptions& o, Reporter& reporter) {
    PackResult result;
    result.output = o.output;
    result.name = o.name.empty() ? release::name_from_image_file(o.output) : o.name;

    // Resolve the source into a tree (no file content is read yet).
    tree::Tree tree;
    tree.set_default_mtime(o.source_options.mtime);
    std::vector<std::string> problems;
    read_source(tree, o, problems, reporter);

    // The release metadata systemd matches against the host.
    if (o.release)
        add_release(tree, result.name, *o.release, problems, o.source_options.mtime);
    if (tree::Node* rel = tree.find(release::release_path(result.name));
        rel && rel->type == tree::NodeType::File)
        tree::materialize(*rel, 1 << 20);

    // Validate everything before packing a byte, and report every problem.
    // Another file name (NAME-VERSION-ARCH.raw, as systemd-sysupdate installs
    // images): systemd takes the release file anyway when it carries
    // user.extension-release.strict=0, as build marks it.
    std::string image_name = release::name_from_image_file(o.output);
    const bool keeps_xattrs =
        o.format == ImageFormat::Erofs ? o.erofs.xattrs : o.writer.xattrs;
    tree::Node* release_node = tree.find(release::release_path(result.name));
    if (image_name != result.name && release_node &&
        release_node->type == tree::NodeType::File && keeps_xattrs) {
        auto& xs = release_node->xattrs;
        xs.erase(std::remove_if(xs.begin(), xs.end(),
                                [](const tree::Xattr& x) {
                                    return x.key == "user.extension-release.strict";
                                }),
                 xs.end());
        xs.push_back({"user.extension-release.strict", "0"});
    } else if (image_name != result.name) {
        problems.push_back(o.output + ": systemd-sysext derives the name " + quote(image_name) +
                           " from this file name, but the extension is called " +
                           quote(result.name) +
                           (keeps_xattrs ? "" : " (with --no-xattrs the release file cannot say "
                                                "user.extension-release.strict=0)"));
    }
    if (std::string dropped = validate::drop_foreign_xattrs(tree); !dropped.empty())
        reporter.warn(dropped);
    for (auto& p : validate::check_tree(tree, {result.name}))
        problems.push_back(std::move(p));
    if (!problems.empty())
        throw MultiError(ErrorKind::Input, std::move(problems));
    tree.finalize();
    result.entries = tree.count();

    // Pack into a temporary file; only a complete image gets the final name.
    AtomicFile out(o.output);
    if (o.format == ImageFormat::Erofs) {
        result.erofs_stats = erofs::write_image(tree, out.fd(), o.erofs, reporter);
        const erofs::WriteStats& e = result.erofs_stats;
        result.stats.input_bytes = e.input_bytes;
        result.stats.image_bytes = e.image_bytes;
        result.stats.inodes = e.inodes;
        result.stats.data_blocks = e.data_blocks;
        result.stats.blocks_written = e.data_blocks;
        result.stats.sparse_blocks = e.sparse_blocks;
    } else {
        result.stats = squashfs::write_image(tree, out.fd(), o.writer, reporter);
    }
    if (o.hash) {
        reporter.stage("hashing");
        result.sha256 = to_hex(sha256_file(out.temp_path()));
    }
    out.commit();
    return result;
}

} // namespace sysext::pipeline

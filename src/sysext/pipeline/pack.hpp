// `sysext-build pack`: a directory or an archive in, one extension image out.
//
// Stages: read the source into a tree, add the extension-release file,
// validate everything, pack into a temporary file, rename into place.
#pragma once

#include "sysext/erofs/writer.hpp"
#include "sysext/pipeline/image_format.hpp"
#include "sysext/release/release.hpp"
#include "sysext/source/options.hpp"
#include "sysext/squashfs/writer.hpp"
#include "sysext/util/reporter.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace sysext::pipeline {

struct PackOptions {
    std::string source;   // a directory or an archive file
    std::string output;   // the image to write
    std::string name;     // extension name; "" = derived from the output file name
    std::optional<release::Fields> release; // generate the release file from these
    source::SourceOptions source_options;
    ImageFormat format = ImageFormat::Squashfs;
    squashfs::WriterOptions writer;
    erofs::WriterOptions erofs; // format == Erofs
    bool hash = true; // SHA-256 of the image in the result (reads it back once)
};

struct PackResult {
    std::string output;
    std::string name;
    std::string sha256; // "" unless options.hash
    uint64_t entries = 0;
    squashfs::WriteStats stats; // for EROFS: input, image size, inodes, data and sparse blocks
    erofs::WriteStats erofs_stats; // format == Erofs
};

PackResult pack(const PackOptions& options, Reporter& reporter);

} // namespace sysext::pipeline

// sysext-build pack SOURCE -o OUT.raw --name NAME [release flags] [packing flags]
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "cli/terminal_reporter.hpp"
#include "sysext/pipeline/pack.hpp"
#include "sysext/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace sysext::cli {

namespace {

struct PackArgs {
    std::string source, output, name;
    ReleaseArgs release;
    PackingArgs packing;
    FormatArgs format;
    bool sha256 = false;
};

void run_pack(const PackArgs& args, const CLI::App& cmd, const GlobalOptions& global) {
    pipeline::PackOptions o;
    o.format = args.format.image_format(cmd);
    const bool erofs = o.format == pipeline::ImageFormat::Erofs;
    o.source = args.source;
    o.output = args.output;
    o.name = args.name;
    o.release = args.release.fields();
    o.source_options = args.packing.source_options();
    if (erofs)
        o.erofs = args.format.erofs_options(cmd, args.packing);
    else
        o.writer = args.packing.writer_options();
    const std::string compression =
        erofs ? o.erofs.compression.to_string() : o.writer.compression.to_string();
    auto cache = args.packing.cache.open();
    if (!erofs)
        o.writer.cache = args.packing.cache.for_blocks(cache.get(), o.writer.compression);
    // LZ4HC, LZMA and zstd cost more than a lookup; fast LZ4 does not (as lz4:hc
    // and lz4 for squashfs).
    else if (args.packing.cache.forced ||
             o.erofs.compression.algorithm != erofs::Compression::Algorithm::Lz4)
        o.erofs.cache = cache.get();
    // Reading the image back to hash it costs time; only --json and --sha256 ask for it.
    o.hash = global.json || args.sha256;
    TerminalReporter reporter(global.quiet || global.json);
    auto r = pipeline::pack(o, reporter);
    args.packing.cache.finish(cache.get(), reporter);
    reporter.finish();
    if (global.json) {
        nlohmann::json j = {
            {"output", r.output},
            {"name", r.name},
            {"size", r.stats.image_bytes},
            {"sha256", r.sha256},
            {"entries", r.entries},
            {"inodes", r.stats.inodes},
            {"input_bytes", r.stats.input_bytes},
            {"format", pipeline::image_format_name(o.format)},
            {"compression", compression},
            {"block_size", erofs ? o.erofs.pcluster_size : o.writer.block_size},
            {"data_blocks", r.stats.data_blocks},
            {"blocks_written", r.stats.blocks_written},
            {"fragment_blocks", r.stats.fragment_blocks},
            {"sparse_blocks", r.stats.sparse_blocks},
        };
        if (cache)
            j["cache"] = cache_json(*cache);
        std::cout << j.dump(2) << "\n";
    } else if (!global.quiet) {
        std::cout << "packed " << r.name << ": " << r.output << " (" << format_size(r.stats.image_bytes)
                  << ", " << r.entries << " entries, " << format_size(r.stats.input_bytes)
                  << " of file data, " << (erofs ? "erofs " : "") << compression << ")\n";
        if (!r.sha256.empty())
            std::cout << "sha256 " << r.sha256 << "\n";
    }
}

const CommandRegistration registration{10, [](CLI::App& app, const GlobalOptions& global) {
    auto args = std::make_shared<PackArgs>();
    CLI::App* cmd = app.add_subcommand("pack", "Pack a directory or an archive into an extension image");
    cmd->add_option("SOURCE", args->source, "A directory, or an archive (tar in any compression, cpio, zip)")
        ->required();
    cmd->add_option("-o,--output", args->output, "The image to write, e.g. NAME.raw")->required();
    cmd->add_option("--name", args->name,
                    "Extension name (default: the output file name without .raw)");
    args->release.add_to(*cmd);
    args->packing.add_to(*cmd);
    args->format.add_to(*cmd);
    cmd->add_flag("--sha256", args->sha256, "Print the image's SHA-256 (always in --json)");
    cmd->callback([args, cmd, &global] { run_pack(*args, *cmd, global); });
}};

} // namespace
} // namespace sysext::cli

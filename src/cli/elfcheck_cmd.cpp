// sysext-build elf-check DIR... [--arch NAME] [--base-root DIR | --base-list FILE]:
// the ELF check of an extension tree on its own (machine, interpreter, DT_NEEDED
// libraries against a base system). Exit status 4 and every problem named when
// anything is missing.
#include "cli/command.hpp"
#include "sysext/release/release.hpp"
#include "sysext/source/directory.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"
#include "sysext/validate/elf.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cstdio>
#include <memory>

namespace {

using namespace sysext;

struct ElfCheckArgs {
    std::vector<std::string> trees;
    std::string arch;
    std::string base_root, base_list;
};

// The tree's own ARCHITECTURE=, when --arch is not given and exactly one
// extension-release file is there.
std::string architecture_of(tree::Tree& tree) {
    tree::Node* dir = tree.find("usr/lib/extension-release.d");
    if (!dir || !dir->is_dir() || dir->children.size() != 1)
        return "";
    tree::Node& file = *dir->children.begin()->second;
    if (file.type != tree::NodeType::File)
        return "";
    const std::string& text = tree::materialize(file, 1 << 20);
    auto fields = release::parse(text, file.path());
    return fields.count("ARCHITECTURE") ? fields["ARCHITECTURE"] : "";
}

void run(const ElfCheckArgs& args, const cli::GlobalOptions& g) {
    if (!args.arch.empty() && args.arch != "_any" && !validate::elf_arch(args.arch)) {
        std::string hint = nearest(args.arch, validate::known_architectures());
        throw_usage("--arch " + quote(args.arch) + ": unknown architecture" +
                    (hint.empty() ? "" : " (did you mean " + quote(hint) + "?)"));
    }
    std::optional<validate::BaseLibraries> base;
    if (!args.base_root.empty())
        base = validate::BaseLibraries::from_root(args.base_root);
    else if (!args.base_list.empty())
        base = validate::BaseLibraries::from_listing(args.base_list);

    std::vector<std::string> problems;
    nlohmann::json results = nlohmann::json::array();
    for (const auto& dir : args.trees) {
        struct stat st;
        if (::stat(dir.c_str(), &st) != 0)
            throw_errno(dir);
        if (!S_ISDIR(st.st_mode))
            throw_usage(dir + ": not a directory (elf-check reads directories, not images)");
        tree::Tree tree;
        std::vector<std::string> found;
        source::add_directory(tree, dir, source::SourceOptions{}, found, null_reporter());
        tree.finalize();
        validate::ElfCheckOptions options;
        options.architecture = args.arch.empty() ? architecture_of(tree) : args.arch;
        options.base = base ? &*base : nullptr;
        validate::ElfReport report = validate::check_elf(tree, options);
        found.insert(found.end(), report.problems.begin(), report.problems.end());

        // With several trees, say which one a problem is in.
        const std::string prefix = args.trees.size() > 1 ? dir + ": " : "";
        for (const auto& p : found)
            problems.push_back(prefix + p);
        results.push_back({{"tree", dir},
                           {"architecture", options.architecture},
                           {"files", report.checked},
                           {"elf_files", report.elf_files},
                           {"skipped", report.skipped},
                           {"problems", found}});
        if (!g.json && !g.quiet)
            std::printf("%s: %llu ELF files of %llu checked%s, %zu problems\n", dir.c_str(),
                        static_cast<unsigned long long>(report.elf_files),
                        static_cast<unsigned long long>(report.checked),
                        options.architecture.empty() ? ""
                                                     : (" for " + options.architecture).c_str(),
                        found.size());
    }
    if (g.json) {
        nlohmann::json out = {{"ok", problems.empty()},
                              {"base", base ? base->description() : ""},
                              {"trees", results}};
        std::printf("%s\n", out.dump().c_str());
    }
    if (!problems.empty())
        throw MultiError(ErrorKind::Verify, problems);
}

cli::CommandRegistration reg{
    40, [](CLI::App& app, const cli::GlobalOptions& g) {
        auto args = std::make_shared<ElfCheckArgs>();
        auto* sub = app.add_subcommand(
            "elf-check", "Check an extension tree's ELF files: machine, interpreter, libraries");
        sub->add_option("DIR", args->trees, "Extension trees (directories holding usr/)")
            ->required();
        sub->add_option("--arch", args->arch,
                        "systemd architecture name (x86-64, arm64, ...); default: the tree's "
                        "ARCHITECTURE=, none or _any: no machine check");
        auto* root = sub->add_option("--base-root", args->base_root,
                                     "Root directory of the target base system");
        auto* list = sub->add_option("--base-list", args->base_list,
                                     "File listing the base system's paths, one a line");
        root->excludes(list);
        sub->callback([args, &g] { run(*args, g); });
    }};

} // namespace

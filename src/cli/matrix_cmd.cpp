// sysext-build matrix [--profiles P...] [--arch A...] [--target T...]: the
// release builds as one line of JSON for a CI matrix (see publish/matrix.hpp).
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "sysext/publish/matrix.hpp"

#include <iostream>

namespace sysext::cli {

namespace {

struct MatrixArgs {
    std::vector<std::string> profiles, archs, targets;
    bool pretty = false;
};

void run_matrix(const MatrixArgs& a, const GlobalOptions& global) {
    publish::MatrixOptions o;
    o.profiles = a.profiles;
    o.profile_dirs = profile_dirs();
    o.architectures = a.archs;
    o.targets = a.targets;
    auto entries = publish::matrix(o);
    // The JSON is the result, for people and pipelines alike: one line (what a
    // CI step puts into an output variable) unless --pretty.
    std::cout << publish::matrix_json(entries).dump(a.pretty ? 2 : -1) << "\n";
    if (!global.quiet && !global.json)
        std::cerr << entries.size() << (entries.size() == 1 ? " build\n" : " builds\n");
}

const CommandRegistration registration{
    8, [](CLI::App& app, const GlobalOptions& global) {
        auto a = std::make_shared<MatrixArgs>();
        CLI::App* cmd =
            app.add_subcommand("matrix", "Print the release builds (profile, version, "
                                         "architecture, target) as JSON for a CI matrix");
        cmd->add_option(
               "--profiles", a->profiles,
               "Profiles by name or file (default: every profile that lists \"release_versions\")")
            ->expected(1, CLI::detail::expected_max_vector_size);
        cmd->add_option("--arch", a->archs,
                        "Only these architectures (systemd's names: x86-64 arm64 ...)")
            ->expected(1, CLI::detail::expected_max_vector_size);
        cmd->add_option("--target", a->targets,
                        "These targets instead of the profiles' release targets")
            ->expected(1, CLI::detail::expected_max_vector_size);
        cmd->add_flag("--pretty", a->pretty, "Indent the JSON for people");
        cmd->footer(
            "Output: {\"include\": [{\"profile\", \"version\", \"architecture\", \"target\"}, "
            "...]}, sorted;\n"
            "in GitHub Actions: strategy.matrix: ${{ fromJSON(needs.matrix.outputs.builds) }}");
        cmd->callback([a, &global] { run_matrix(*a, global); });
    }};

} // namespace
} // namespace sysext::cli

// Archives as `pack` reads them (tar in any compression, cpio, zip, 7z, ar):
// add_archive on the bytes as a file, streaming mode, then what the pipeline
// does with a tree that has no problems: the release file read first (an
// entry out of the archive's order), then every file's content in the tree's
// order, as the squashfs writer asks for it.
#include "fuzz_util.hpp"

#include "sysext/source/archive.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/reporter.hpp"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    const std::string path = fuzz::write_input("input.tar", fuzz::bytes(data, size));
    fuzz::refusal_expected([&] {
        source::SourceOptions options;
        options.max_content_bytes = 16 << 20; // keep each input's work small
        tree::Tree tree;
        std::vector<std::string> problems;
        source::add_archive(tree, path, options, problems, null_reporter());
        if (!problems.empty())
            return;
        if (tree::Node* rel = tree.find("usr/lib/extension-release.d/extension-release.fuzz");
            rel && rel->type == tree::NodeType::File)
            tree::materialize(*rel, 1 << 20);
        tree.finalize();
        tree.walk([](const tree::Node& n) {
            if (n.is_file())
                tree::read_content(n, [](const void*, size_t) {});
        });
    });
    return 0;
}

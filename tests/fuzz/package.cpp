// Packages as `build` reads them (.deb, RPM, GPKG, XPAK, or any archive):
// detect_package_format and add_package on the bytes as a file, with contents
// kept as blobs (build's mode: read in the first pass, named by their SHA-256),
// then every file's content read back.
#include "fuzz_util.hpp"

#include "sysext/source/package_source.hpp"
#include "sysext/tree/content_reader.hpp"
#include "sysext/util/reporter.hpp"

#include <filesystem>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    const std::string path = fuzz::write_input("input.pkg", fuzz::bytes(data, size));
    const std::string blobs = fuzz::scratch_dir() + "/blobs";
    std::filesystem::create_directory(blobs);
    fuzz::refusal_expected([&] {
        source::detect_package_format(path);
        source::SourceOptions options;
        options.max_content_bytes = 16 << 20; // keep each input's work small
        options.blob_dir = blobs;
        tree::Tree tree;
        std::vector<std::string> problems;
        source::add_package(tree, path, options, problems, null_reporter());
        if (!problems.empty())
            return;
        tree.finalize();
        tree.walk([](const tree::Node& n) {
            if (n.is_file())
                tree::read_content(n, [](const void*, size_t) {});
        });
    });
    fuzz::remove_input("blobs");
    return 0;
}

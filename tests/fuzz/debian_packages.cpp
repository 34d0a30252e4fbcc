// Debian Packages indices as a build reads them from a mirror: read_index_file
// (xz, gzip, bzip2, zstd or plain, told by content) on the bytes as a file,
// PackageIndex::add on the text, then the choices a build makes: minbase,
// each package chosen by name (latest), its dependencies resolved and its
// recommendations listed.
#include "fuzz_util.hpp"

#include "sysext/source/debian_packages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    using namespace sysext::source;
    const std::string path = fuzz::write_input("Packages", fuzz::bytes(data, size));
    fuzz::refusal_expected([&] {
        const std::string text = read_index_file(path, "Packages", 16 << 20);
        PackageIndex index("amd64");
        index.add(text, "Packages");
        const BaseSystem base = index.minbase();
        std::vector<std::string> names;
        for_each_paragraph(text, "Packages", [&](const ControlParagraph& p) {
            if (names.size() < 8)
                names.push_back(p.get("Package"));
        });
        for (const auto& name : names) {
            fuzz::refusal_expected([&] {
                std::vector<const DebPackage*> roots{&index.choose(name, VersionPattern::latest())};
                auto chosen = index.resolve(roots, base);
                index.unmet_recommends(chosen, base);
                index.recommended(chosen, name);
            });
        }
    });
    return 0;
}

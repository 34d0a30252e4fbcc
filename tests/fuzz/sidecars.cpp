// A bare image with its signature sidecars, as verify and inspect find them
// next to NAME.raw: the input is up to four files separated by "\n--8<--\n"
// (fuzz_util.hpp): image.raw, image.verity, image.roothash and
// image.roothash.p7s, a missing part a missing file. Then inspect::inspect
// (tree, root hash, PKCS#7 with the certificate it carries) and
// verity::check_signed_image against a certificate.
#include "fuzz_util.hpp"
#include "signer.hpp"

#include "sysext/inspect/inspect.hpp"
#include "sysext/verity/image_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    fuzz::signer();
    static const char* const k_names[] = {"image.raw", "image.verity", "image.roothash",
                                          "image.roothash.p7s"};
    auto parts = fuzz::split_parts(fuzz::bytes(data, size));
    for (size_t i = 0; i < std::size(k_names); ++i) {
        if (i < parts.size())
            fuzz::write_input(k_names[i], parts[i]);
        else
            fuzz::remove_input(k_names[i]);
    }
    const std::string path = fuzz::scratch_dir() + "/image.raw";
    fuzz::refusal_expected([&] {
        inspect::InspectOptions o;
        o.path = path;
        inspect::to_text(inspect::inspect(o));
    });
    fuzz::refusal_expected([&] { verity::check_signed_image(path, fuzz::signer().cert); });
    return 0;
}

// Whatever `inspect` and `verify` are given: inspect::inspect on the bytes as
// a file (a squashfs image, a GPT disk image with its partitions, or a
// payload, told by magic), its reports as the command line prints them, and
// verity::check_signed_image against a certificate. A disk image is read again
// with its GPT CRCs made right (gpt_fixup.hpp), so its partitions are reached.
#include "fuzz_util.hpp"
#include "gpt_fixup.hpp"
#include "signer.hpp"

#include "sysext/inspect/contents.hpp"
#include "sysext/inspect/inspect.hpp"
#include "sysext/verity/image_check.hpp"

namespace {

void inspect_file(const std::string& path) {
    using namespace sysext;
    fuzz::refusal_expected([&] {
        inspect::InspectOptions o;
        o.path = path;
        inspect::Inspection r = inspect::inspect(o);
        inspect::to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
        inspect::to_text(r);
        if (r.contents_read) {
            inspect::contents_listing(r.listing.entries);
            inspect::usage_by_directory(r.listing.entries);
            inspect::contents_json(r.listing.entries)
                .dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
        }
    });
    fuzz::refusal_expected([&] { verity::check_signed_image(path, fuzz::signer().cert); });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    fuzz::signer();
    const std::string input(fuzz::bytes(data, size));
    const std::string path = fuzz::write_input("image.raw", input);
    inspect_file(path);
    std::string fixed = fuzz::fix_gpt_crcs(input);
    if (fixed != input && input.compare(512, 8, "EFI PART") == 0) { // fixed: >= 68 sectors
        fuzz::write_input("image.raw", fixed);
        inspect_file(path);
    }
    return 0;
}

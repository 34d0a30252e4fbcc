// Verity signature partitions (a DDI's root-verity-sig: JSON padded with NUL
// bytes): decode_verity_signature on the bytes, then the canonical-form
// comparison inspect and verify make with encode_verity_signature.
#include "fuzz_util.hpp"

#include "sysext/ddi/verity_sig.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    fuzz::refusal_expected([&] {
        ddi::VeritySignature sig = ddi::decode_verity_signature(fuzz::bytes(data, size), "sig");
        ddi::encode_verity_signature(sig);
    });
    return 0;
}

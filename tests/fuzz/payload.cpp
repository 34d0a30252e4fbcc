// Flatcar update payloads as `payload inspect`, `payload verify` and
// `payload attach` read them: describe on the bytes as a file (and its JSON
// as --json prints it), verify_payload with a key, and, so that the checks
// behind the signature are reached, the signed range signed with that key,
// attached as one or as two signatures (attach_signatures), and verified again
// with --extract.
#include "fuzz_util.hpp"
#include "signer.hpp"

#include "payload/describe.hpp"
#include "payload/signer.hpp"
#include "payload/verifier.hpp"

namespace {

void verify(const std::string& path, bool extract) {
    using namespace sysext;
    payload::VerifyOptions o;
    o.payload = path;
    o.public_keys = std::span(&fuzz::signer().public_key, 1);
    if (extract)
        o.extract = fuzz::scratch_dir() + "/extracted.raw";
    payload::verify_payload(o, null_reporter());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    fuzz::signer();
    const std::string path = fuzz::write_input("flatcar-fuzz.gz", fuzz::bytes(data, size));
    fuzz::refusal_expected([&] {
        payload::PayloadDescription d = payload::describe(path);
        d.to_text(true);
        d.data.dump(2);
    });
    fuzz::refusal_expected([&] { verify(path, false); });
    fuzz::refusal_expected([&] {
        const std::string signature =
            signing::sign_sha256_digest(fuzz::signer().key, payload::signed_range_hash(path));
        const std::string signed_path = fuzz::scratch_dir() + "/flatcar-fuzz.signed.gz";
        for (size_t count : {1, 2}) {
            payload::AttachOptions a;
            a.payload = path;
            a.output = signed_path;
            a.signatures.assign(count, signature);
            try {
                payload::attach_signatures(a);
            } catch (const Error&) {
                continue; // reserved for another count or size
            }
            verify(signed_path, true);
            return;
        }
    });
    fuzz::remove_input("extracted.raw");
    return 0;
}

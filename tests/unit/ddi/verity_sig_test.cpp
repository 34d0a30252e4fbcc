#include "sysext/ddi/verity_sig.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sysext::ddi {

TEST(VeritySig, EncodesPaddedJson) {
    std::string content = encode_verity_signature({"ab12", "cd34", std::string("\x01\x02\xff", 3)});
    EXPECT_EQ(content.size(), 4096u);
    std::string text = content.substr(0, content.find('\0'));
    EXPECT_EQ(text, R"({"certificateFingerprint":"cd34","rootHash":"ab12","signature":"AQL/"})");
    auto j = nlohmann::json::parse(text);
    EXPECT_EQ(j["rootHash"], "ab12");
    VeritySignature back = decode_verity_signature(content, "sig");
    EXPECT_EQ(back.signature_der, std::string("\x01\x02\xff", 3));
    EXPECT_EQ(back.certificate_fingerprint_hex, "cd34");
}

TEST(VeritySig, RejectsDamage) {
    std::string content = encode_verity_signature({"ab12", "cd34", "xyzw"});
    auto error = [](std::string c) {
        try {
            decode_verity_signature(c, "sig");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    std::string trailing = content;
    trailing[4000] = 'x';
    EXPECT_EQ(error(trailing), "sig: data after the JSON text is not all NUL bytes");
    std::string no_root = content;
    no_root.replace(no_root.find("rootHash"), 8, "rootHasx");
    EXPECT_EQ(error(no_root), "sig: no \"rootHash\" field");
    EXPECT_EQ(error(std::string(4096, '\0')), "sig: not a JSON object");
}

} // namespace sysext::ddi

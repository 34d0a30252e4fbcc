// deb822 control data (Packages stanzas, dpkg status, apt .sources): every
// paragraph and field of the bytes, each field's value and lines, and the
// field parsers a build applies: relations, versions, decimal numbers.
#include "fuzz_util.hpp"

#include "sysext/source/debian_control.hpp"
#include "sysext/source/version.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    using namespace sysext::source;
    fuzz::refusal_expected([&] {
        for_each_paragraph(fuzz::bytes(data, size), "control", [](const ControlParagraph& p) {
            for (const auto& f : p.fields) {
                const std::string value = f.value();
                f.lines();
                parse_decimal(value);
                fuzz::refusal_expected([&] {
                    for (const auto& group : parse_relations(value, "control"))
                        group_str(group);
                });
                fuzz::refusal_expected([&] { DebianVersion::parse(value).str(); });
                fuzz::refusal_expected([&] {
                    auto pattern = VersionPattern::parse(value);
                    pattern.matches(DebianVersion::parse("1:5.4.2+ds1-1~deb13u1"));
                });
            }
        });
    });
    return 0;
}

// systemd's architecture names to Debian's and to multiarch triplets: what the
// ${debian_arch} and ${triplet} profile variables expand to.
#include "sysext/pipeline/build.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

namespace sysext::pipeline {

TEST(DebianArchitecture, NamesAndTriplets) {
    struct Case {
        const char* systemd;
        const char* debian;
        const char* triplet;
    };
    for (const Case& c : {Case{"x86-64", "amd64", "x86_64-linux-gnu"},
                          Case{"arm64", "arm64", "aarch64-linux-gnu"},
                          Case{"arm", "armhf", "arm-linux-gnueabihf"},
                          Case{"ppc64-le", "ppc64el", "powerpc64le-linux-gnu"}}) {
        EXPECT_EQ(debian_architecture(c.systemd), c.debian);
        EXPECT_EQ(multiarch_triplet(c.systemd), c.triplet);
    }
}

TEST(DebianArchitecture, UnknownToDebian) {
    EXPECT_EQ(multiarch_triplet("loongarch64"), "");
    try {
        debian_architecture("loongarch64");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        EXPECT_STREQ(e.what(), "--arch: no Debian architecture for \"loongarch64\"");
    }
}

} // namespace sysext::pipeline

// systemd's architecture names to Debian's and to multiarch triplets: what the
// ${debian_arch} and ${triplet} profile variables expand to.
#include "sysext/pipeline/build.hpp"
#include "sysext/util/error.hpp"

#include <gtest/gtest.h>

namespace sysext::pipeline {

TEST(DebianArchitecture, NamesAndTriplets) {
    EXPECT_EQ(debian_architecture("x86-64"), "amd64");
    EXPECT_EQ(multiarch_triplet("x86-64"), "x86_64-linux-gnu");
    EXPECT_EQ(debian_architecture("arm64"), "arm64");
    EXPECT_EQ(multiarch_triplet("arm64"), "aarch64-linux-gnu");
    EXPECT_EQ(debian_architecture("arm"), "armhf");
    EXPECT_EQ(multiarch_triplet("arm"), "arm-linux-gnueabihf");
    EXPECT_EQ(debian_architecture("ppc64-le"), "ppc64el");
    EXPECT_EQ(multiarch_triplet("ppc64-le"), "powerpc64le-linux-gnu");
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

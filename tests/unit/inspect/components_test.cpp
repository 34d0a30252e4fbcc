#include "sysext/inspect/components.hpp"

#include <gtest/gtest.h>

namespace sysext::inspect {

TEST(Components, ListingIsSortedWithUnknownVersionsMarked) {
    std::map<std::string, std::string> components = {{"podman", "5.4.2"}, {"crun", ""}};
    std::vector<pipeline::BuiltInput> packages = {{"podman", "5.4.2+ds1-1", "bb"},
                                                  {"conmon", "2.1.12-4", "aa"}};
    EXPECT_EQ(components_listing(components, packages), "component\tcrun\t-\n"
                                                        "component\tpodman\t5.4.2\n"
                                                        "package\tconmon\t2.1.12-4\taa\n"
                                                        "package\tpodman\t5.4.2+ds1-1\tbb\n");
    nlohmann::json j = components_json(components, packages);
    EXPECT_TRUE(j["components"]["crun"].is_null());
    EXPECT_EQ(j["components"]["podman"], "5.4.2");
    ASSERT_EQ(j["packages"].size(), 2u);
    EXPECT_EQ(j["packages"][0]["name"], "conmon");
    EXPECT_EQ(j["packages"][1]["sha256"], "bb");
}

} // namespace sysext::inspect

// KernelConfig: what a kernel's boot/config says, on a sample and on the
// default kernel's real config.
#include <catch2/catch.hpp>

#include "kernel/kernel_config.hpp"
#include "kernel/kernel_supply.hpp"

using namespace ktstr::vmm::kernel;

TEST_CASE("config values: y, m, unset, strings", "[kernel]") {
    const auto c = KernelConfig::parse(
        "#\n# Automatically generated file\nCONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_S=\"text\"\n"
        "CONFIG_N=42\nNOT_CONFIG=y\n");
    CHECK(c.built_in("CONFIG_A"));
    CHECK(c.enabled("CONFIG_B"));
    CHECK_FALSE(c.built_in("CONFIG_B"));
    CHECK_FALSE(c.enabled("CONFIG_C"));
    CHECK(c.value("CONFIG_C").empty());
    CHECK(c.value("CONFIG_S") == "\"text\"");
    CHECK(c.value("CONFIG_N") == "42");
    CHECK(c.value("NOT_CONFIG").empty());
    CHECK_THROWS_WITH(KernelConfig::read("/nonexistent/config"), Catch::Contains("cannot read"));
}

TEST_CASE("the default kernel has what ktstr needs", "[kernel]") {
    const auto k = resolve("default");
    REQUIRE(k.config);
    const auto c = KernelConfig::read(*k.config);
    CHECK(c.built_in("CONFIG_BLK_DEV_INITRD"));
    CHECK(c.built_in("CONFIG_RD_GZIP"));
    CHECK(c.enabled("CONFIG_KVM_AMD"));
    CHECK(missing_config(*k.config, true).empty());
}

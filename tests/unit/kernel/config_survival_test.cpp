// The check after olddefconfig: every option asked for has the asked value.
#include <catch2/catch.hpp>

#include "kernel_build/config_survival.hpp"

using namespace ktstr::vmm::kernel_build;

TEST_CASE("options olddefconfig dropped or changed are named", "[kernel_build]") {
    const auto base = parse_fragment("CONFIG_SMP=y\nCONFIG_NR_CPUS=256\nCONFIG_RETPOLINE=n\nCONFIG_KVM_GUEST=m\n"
                                     "CONFIG_DEBUG_FS=y\n",
                                     "base");
    const auto user = parse_fragment("CONFIG_USB_STORAGE=y  # needs USB\nCONFIG_DEBUG_FS=n\n", "user");
    const std::string final_config = "#\n# Automatically generated file; DO NOT EDIT.\n#\n"
                                     "CONFIG_SMP=y\n"
                                     "CONFIG_NR_CPUS=64\n"           // clamped
                                     "CONFIG_KVM_GUEST=y\n"          // m without modules is y: met
                                     "CONFIG_DEBUG_FS=y\n"           // the user's =n came last and lost
                                     "# CONFIG_USB_STORAGE is not set\n";
    const auto lost = lost_options({base, user}, final_config);
    REQUIRE(lost.size() == 3);
    CHECK(lost[0].name == "CONFIG_NR_CPUS");
    CHECK(describe(lost[0]) == "CONFIG_NR_CPUS=256 did not survive olddefconfig (now: 64)");
    // Asked first by the base, so reported in the base's place, with the
    // user's (last) value.
    CHECK(describe(lost[1]) == "CONFIG_DEBUG_FS=n did not survive olddefconfig (now: y)");
    CHECK(describe(lost[2]) == "CONFIG_USB_STORAGE=y did not survive olddefconfig (now: not set)");
}

TEST_CASE("everything kept: nothing lost; an unknown option asked off is kept", "[kernel_build]") {
    const auto f = parse_fragment("CONFIG_A=y\nCONFIG_GONE=n\nCONFIG_S=\"x\"\n", "f");
    CHECK(lost_options({f}, "CONFIG_A=y\nCONFIG_S=\"x\"\n").empty());
    // A later fragment turning an option back on wins over an earlier =n.
    const auto again = parse_fragment("CONFIG_GONE=y\n", "g");
    REQUIRE(lost_options({f, again}, "CONFIG_A=y\nCONFIG_S=\"x\"\n").size() == 1);
    CHECK(lost_options({f}, "CONFIG_A=m\nCONFIG_S=\"x\"\n").size() == 1);  // asked y, got m: lost
}

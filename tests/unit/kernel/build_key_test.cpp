// The build key, the recipe and the release suffix.
#include <catch2/catch.hpp>

#include "kernel_build/build_key.hpp"
#include "kernel_build/sha256.hpp"

using namespace ktstr::vmm::kernel_build;

TEST_CASE("SHA-256 through libcrypto", "[kernel_build]") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(Sha256().update("a").update("bc").hex() == sha256_hex("abc"));
    // Fields are delimited: ("ab", "c") is not ("a", "bc").
    CHECK(Sha256().field("ab").field("c").hex() != Sha256().field("a").field("bc").hex());
}

TEST_CASE("the key takes the .config without its generated comments", "[kernel_build]") {
    const std::string config = "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.12.118 Kernel Configuration\n"
                               "#\nCONFIG_CC_VERSION_TEXT=\"gcc 12\"\n\n#\n# General setup\n#\nCONFIG_SMP=y\n"
                               "# CONFIG_DEBUG_FS is not set\n";
    CHECK(config_for_key(config) == "CONFIG_CC_VERSION_TEXT=\"gcc 12\"\nCONFIG_SMP=y\n# CONFIG_DEBUG_FS is not set\n");
    const auto key = build_key("linux-source-6.12 6.12.118-1~deb12u1", config);
    CHECK(key.size() == 64);
    CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);
    // Comment lines do not change it; a value, the source or a "not set" do.
    CHECK(build_key("linux-source-6.12 6.12.118-1~deb12u1", "# another header\n" + config) == key);
    CHECK(build_key("linux-source-6.12 6.12.119-1~deb12u1", config) != key);
    CHECK(build_key("linux-source-6.12 6.12.118-1~deb12u1", config + "CONFIG_NR_CPUS=8\n") != key);
    CHECK(build_key("linux-source-6.12 6.12.118-1~deb12u1", config + "# CONFIG_X is not set\n") != key);
    CHECK(local_version(key) == "-ktstr-" + key.substr(0, 12));
}

TEST_CASE("the recipe takes the fragments in order and the tools", "[kernel_build]") {
    const auto r = recipe_key("src", {"CONFIG_A=y\n", "CONFIG_B=y\n"}, "gcc 12");
    CHECK(r.size() == 64);
    CHECK(recipe_key("src", {"CONFIG_A=y\n", "CONFIG_B=y\n"}, "gcc 12") == r);
    CHECK(recipe_key("src", {"CONFIG_B=y\n", "CONFIG_A=y\n"}, "gcc 12") != r);  // order decides who wins
    CHECK(recipe_key("src", {"CONFIG_A=y\nCONFIG_B=y\n"}, "gcc 12") != r);
    CHECK(recipe_key("src", {"CONFIG_A=y\n", "CONFIG_B=y\n"}, "gcc 13") != r);
    CHECK(recipe_key("other", {"CONFIG_A=y\n", "CONFIG_B=y\n"}, "gcc 12") != r);
}

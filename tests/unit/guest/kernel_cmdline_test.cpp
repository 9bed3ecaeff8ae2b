#include <catch2/catch.hpp>

#include "guest_sandbox.hpp"
#include "ktstr/guest/kernel_cmdline.hpp"

using namespace ktstr::guest;

TEST_CASE("guest token matches whole words only", "[guest][cmdline]") {
    CHECK(cmdline_has_token("console=ttyS0 KTSTR_GUEST=1 quiet", "KTSTR_GUEST=1"));
    CHECK(cmdline_has_token("KTSTR_GUEST=1\n", "KTSTR_GUEST=1"));
    CHECK_FALSE(cmdline_has_token("KTSTR_GUEST=10", "KTSTR_GUEST=1"));
    CHECK_FALSE(cmdline_has_token("xKTSTR_GUEST=1", "KTSTR_GUEST=1"));
    CHECK_FALSE(cmdline_has_token("", "KTSTR_GUEST=1"));
}

TEST_CASE("cmdline values: first occurrence, exact key", "[guest][cmdline]") {
    CHECK(cmdline_value("A=1 B=2 A=3", "A") == std::optional<std::string_view>("1"));
    CHECK(cmdline_value("AB=1", "A") == std::nullopt);
    CHECK(cmdline_value("A", "A") == std::nullopt);
    CHECK(cmdline_value("A=", "A") == std::optional<std::string_view>(""));
}

TEST_CASE("SHM parameters parse as hex and are bounded", "[guest][cmdline]") {
    auto p = parse_shm_params("x KTSTR_SHM_BASE=0xfe000000 KTSTR_SHM_SIZE=0x10000 y");
    REQUIRE(p);
    CHECK(p->base == 0xfe000000u);
    CHECK(p->size == 0x10000u);
    auto q = parse_shm_params("KTSTR_SHM_BASE=1000 KTSTR_SHM_SIZE=FF");
    REQUIRE(q);
    CHECK(q->base == 0x1000);
    CHECK(q->size == 0xff);
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0x1000"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0x1000 KTSTR_SHM_SIZE=0"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0xzz KTSTR_SHM_SIZE=0x10"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0x KTSTR_SHM_SIZE=0x10"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0xffffffffffffff00 KTSTR_SHM_SIZE=0x1000"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0x1000 KTSTR_SHM_SIZE=0x80000000"));  // beyond any ring
}

TEST_CASE("guest detection is read once and cached until the paths change", "[guest][cmdline]") {
    ktstr::test::GuestSandbox sb("quiet KTSTR_GUEST=1");
    CHECK(is_guest());
    sb.set_cmdline("quiet");
    CHECK(is_guest());  // cached
    sb.refresh();
    CHECK_FALSE(is_guest());
}

TEST_CASE("an unreadable command line means host context", "[guest][cmdline]") {
    ktstr::test::GuestSandbox sb;
    auto p = paths();
    p.cmdline = sb.path("does-not-exist");
    set_paths(p);
    CHECK(read_kernel_cmdline().empty());
    CHECK_FALSE(is_guest());
}

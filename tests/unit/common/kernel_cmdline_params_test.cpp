#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "ktstr/common/boot_mark.hpp"
#include "ktstr/common/kernel_cmdline_params.hpp"
#include "ktstr/common/shm_ring.hpp"

using namespace ktstr::cmdline_params;

TEST_CASE("the VMM's parameters: the text both arch layouts appended before they shared it", "[cmdline]") {
    // What fmt's "KTSTR_GUEST=1 KTSTR_SHM_BASE={:#x} KTSTR_SHM_SIZE={:#x}" gave.
    CHECK(format_vmm_params({0xc000000, 0x100000}) == "KTSTR_GUEST=1 KTSTR_SHM_BASE=0xc000000 KTSTR_SHM_SIZE=0x100000");
    CHECK(format_vmm_params({0x5fff0000, 0x10000}) == "KTSTR_GUEST=1 KTSTR_SHM_BASE=0x5fff0000 KTSTR_SHM_SIZE=0x10000");
    CHECK(format_vmm_params({0, 0}) == "KTSTR_GUEST=1 KTSTR_SHM_BASE=0x0 KTSTR_SHM_SIZE=0x0");
    CHECK(format_vmm_params({~std::uint64_t{0}, 0xabcdef}) ==
          "KTSTR_GUEST=1 KTSTR_SHM_BASE=0xffffffffffffffff KTSTR_SHM_SIZE=0xabcdef");
}

TEST_CASE("the VMM's parameters parse back to what was formatted", "[cmdline]") {
    for (const ShmParams p : {ShmParams{0xc000000, 0x100000}, ShmParams{0x5fff0000, 0x10000},
                              ShmParams{0xfff00000, 0x200000}, ShmParams{0, 0x1000}}) {
        const std::string line = "console=ttyS0 panic=-1 " + format_vmm_params(p) + " quiet -- init-arg";
        CHECK(cmdline_has_token(line, guest_word));
        CHECK(parse_shm_params(line) == p);
    }
}

TEST_CASE("the words the VMM owns: KTSTR_GUEST and the SHM pair, not init's options", "[cmdline]") {
    CHECK(sets_vmm_param("KTSTR_GUEST=1"));
    CHECK(sets_vmm_param("KTSTR_GUEST"));
    CHECK(sets_vmm_param("KTSTR_SHM_BASE=0x1000"));
    CHECK(sets_vmm_param("KTSTR_SHM_SIZE="));
    CHECK_FALSE(sets_vmm_param("KTSTR_GUESTS=1"));
    CHECK_FALSE(sets_vmm_param("KTSTR_INIT_ECHO=0"));
    CHECK_FALSE(sets_vmm_param("quiet"));
    CHECK_FALSE(sets_vmm_param(""));
}

TEST_CASE("guest token matches whole words only", "[cmdline]") {
    CHECK(cmdline_has_token("console=ttyS0 KTSTR_GUEST=1 quiet", "KTSTR_GUEST=1"));
    CHECK(cmdline_has_token("KTSTR_GUEST=1\n", "KTSTR_GUEST=1"));
    CHECK_FALSE(cmdline_has_token("KTSTR_GUEST=10", "KTSTR_GUEST=1"));
    CHECK_FALSE(cmdline_has_token("xKTSTR_GUEST=1", "KTSTR_GUEST=1"));
    CHECK_FALSE(cmdline_has_token("", "KTSTR_GUEST=1"));
}

TEST_CASE("cmdline values: first occurrence, exact key", "[cmdline]") {
    CHECK(cmdline_value("A=1 B=2 A=3", "A") == std::optional<std::string_view>("1"));
    CHECK(cmdline_value("AB=1", "A") == std::nullopt);
    CHECK(cmdline_value("A", "A") == std::nullopt);
    CHECK(cmdline_value("A=", "A") == std::optional<std::string_view>(""));
}

TEST_CASE("SHM parameters parse as hex and are bounded", "[cmdline]") {
    auto p = parse_shm_params("x KTSTR_SHM_BASE=0xfe000000 KTSTR_SHM_SIZE=0x10000 y");
    REQUIRE(p);
    CHECK(p->base == 0xfe000000u);
    CHECK(p->size == 0x10000u);
    auto q = parse_shm_params("KTSTR_SHM_BASE=1000 KTSTR_SHM_SIZE=FF");
    REQUIRE(q);
    CHECK(q->base == 0x1000);
    CHECK(q->size == 0xff);
    CHECK(parse_shm_params("KTSTR_SHM_BASE=0X1000 KTSTR_SHM_SIZE=0x1000"));
    // The bound is the largest ring the host can make, header included.
    const std::uint64_t largest = ktstr::shm::header_size + ktstr::shm::max_capacity;
    CHECK(parse_shm_params(format_vmm_params({0x1000, largest})) == ShmParams{0x1000, largest});
    CHECK_FALSE(parse_shm_params(format_vmm_params({0x1000, largest + 1})));
}

TEST_CASE("malformed SHM parameters are refused", "[cmdline]") {
    CHECK_FALSE(parse_shm_params(""));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0x1000"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_SIZE=0x1000"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0x1000 KTSTR_SHM_SIZE=0"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0xzz KTSTR_SHM_SIZE=0x10"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0x KTSTR_SHM_SIZE=0x10"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE= KTSTR_SHM_SIZE=0x10"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=-0x10 KTSTR_SHM_SIZE=0x10"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=+10 KTSTR_SHM_SIZE=0x10"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0x10g KTSTR_SHM_SIZE=0x10"));
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0x10000000000000000 KTSTR_SHM_SIZE=0x10"));  // 65 bits
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0xffffffffffffff00 KTSTR_SHM_SIZE=0x1000"));  // wraps
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=0x1000 KTSTR_SHM_SIZE=0x80000000"));          // beyond any ring
    // The first of each counts, so a malformed first one is not rescued by a later one.
    CHECK_FALSE(parse_shm_params("KTSTR_SHM_BASE=zz KTSTR_SHM_BASE=0x1000 KTSTR_SHM_SIZE=0x1000"));
}

TEST_CASE("the boot mark page: KTSTR_BOOT_MARK, page-aligned, the VMM's own") {
    using ktstr::cmdline_params::parse_boot_mark_address;
    CHECK(parse_boot_mark_address("quiet KTSTR_BOOT_MARK=0xd0010000 x") == 0xd001'0000u);
    CHECK(parse_boot_mark_address("KTSTR_BOOT_MARK=d0010000") == 0xd001'0000u);
    CHECK_FALSE(parse_boot_mark_address("quiet"));
    CHECK_FALSE(parse_boot_mark_address("KTSTR_BOOT_MARK=0xd0010004"));  // not page-aligned
    CHECK_FALSE(parse_boot_mark_address("KTSTR_BOOT_MARK=0x0"));
    CHECK_FALSE(parse_boot_mark_address("KTSTR_BOOT_MARK=zz"));
    CHECK(ktstr::cmdline_params::sets_vmm_param("KTSTR_BOOT_MARK=0x1000"));
}

#include <catch2/catch.hpp>

#include "guest_sandbox.hpp"
#include "ktstr/guest/phys_base.hpp"

using namespace ktstr::guest;

namespace {

constexpr const char* x86_iomem =
    "00000000-00000fff : Reserved\n"
    "00001000-0009fbff : System RAM\n"
    "00100000-7ffdffff : System RAM\n"
    "  1e000000-1ee02806 : Kernel code\n"
    "  1f000000-1f4c1fff : Kernel rodata\n";

constexpr const char* arm_iomem =
    "09000000-09000fff : pl011@9000000\n"
    "40000000-bfffffff : System RAM\n"
    "  40210000-41a8ffff : Kernel code\n"
    "  41b90000-4211ffff : Kernel data\n";

}  // namespace

TEST_CASE("x86_64 phys_base is Kernel code minus 16 MiB", "[guest][iomem]") {
    CHECK(phys_base_from_iomem(x86_iomem, Arch::x86_64) == 0x1e000000u - 0x1000000u);
    CHECK(phys_base_from_iomem("  01000000-01e00000 : Kernel code\n", Arch::x86_64) == 0u);
}

TEST_CASE("aarch64 phys_base is Kernel code minus the first System RAM", "[guest][iomem]") {
    CHECK(phys_base_from_iomem(arm_iomem, Arch::aarch64) == 0x210000u);
    CHECK_FALSE(phys_base_from_iomem("  40210000-41a8ffff : Kernel code\n", Arch::aarch64));
}

TEST_CASE("missing or malformed iomem gives no phys_base", "[guest][iomem]") {
    CHECK_FALSE(phys_base_from_iomem("", Arch::x86_64));
    CHECK_FALSE(phys_base_from_iomem("zz-1 : Kernel code\n", Arch::x86_64));
    CHECK_FALSE(phys_base_from_iomem("-1000 : Kernel code\n", Arch::x86_64));
    CHECK_FALSE(phys_base_from_iomem("1000-2000 : Kernel codex\n", Arch::x86_64));
    CHECK_FALSE(phys_base_from_iomem("00000000-0000ffff : Kernel code", Arch::aarch64));
}

TEST_CASE("read_phys_base reads the redirected iomem", "[guest][iomem]") {
    ktstr::test::GuestSandbox sb;
    CHECK_FALSE(read_phys_base());
    ktstr::test::write_text(sb.path("iomem"), native_arch() == Arch::x86_64 ? x86_iomem : arm_iomem);
    CHECK(read_phys_base() == phys_base_from_iomem(native_arch() == Arch::x86_64 ? x86_iomem : arm_iomem, native_arch()));
}

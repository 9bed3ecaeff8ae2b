#include <catch2/catch.hpp>

#include <vector>

#include "arch/x86_64/vcpu/cpuid.hpp"

using ktstr::vmm::x86_64::topology_shift;
using ktstr::vmm::x86_64::vcpu_cpuid;

namespace {

kvm_cpuid_entry2 leaf(std::uint32_t function, std::uint32_t index = 0, std::uint32_t eax = 0, std::uint32_t ebx = 0,
                      std::uint32_t ecx = 0, std::uint32_t edx = 0) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.eax = eax;
    e.ebx = ebx;
    e.ecx = ecx;
    e.edx = edx;
    return e;
}

std::vector<kvm_cpuid_entry2> find_all(const std::vector<kvm_cpuid_entry2>& v, std::uint32_t function) {
    std::vector<kvm_cpuid_entry2> out;
    for (const auto& e : v)
        if (e.function == function)
            out.push_back(e);
    return out;
}

// Something like what KVM reports on an AMD host: max basic leaf 0x10,
// KVM's paravirtual leaves, TOPOEXT, host topology values to replace.
std::vector<kvm_cpuid_entry2> amd_like() {
    return {leaf(0, 0, 0x10, 0x68747541),
            leaf(1, 0, 0x00a00f11, 0xff100800, 0x7ed8320b, 0x178bfbff),
            leaf(0xb, 0, 1, 2, 0x100, 7),  // host values KVM passed through
            leaf(0x40000000, 0, 0x40000001, 0x4b4d564b),
            leaf(0x40000001, 0, 0x01007afb),
            leaf(0x80000001, 0, 0, 0, 1u << 22),
            leaf(0x80000008, 0, 0x3030, 0, 0x0000703f),
            leaf(0x8000001e, 0, 0x12, 0x0103, 0x0201)};
}

}  // namespace

TEST_CASE("topology_shift counts the bits that number the items") {
    CHECK(topology_shift(1) == 0);
    CHECK(topology_shift(2) == 1);
    CHECK(topology_shift(3) == 2);
    CHECK(topology_shift(4) == 2);
    CHECK(topology_shift(5) == 3);
    CHECK(topology_shift(254) == 8);
}

TEST_CASE("leaf 1 carries the vCPU's APIC id, the CPU count and the hypervisor bit") {
    const auto supported = amd_like();
    const auto c = vcpu_cpuid(supported, 3, 4);
    const auto l1 = find_all(c, 1).at(0);
    CHECK((l1.ebx >> 24) == 3);
    CHECK(((l1.ebx >> 16) & 0xff) == 4);
    CHECK((l1.ebx & 0xffff) == 0x0800);  // CLFLUSH size and brand index kept
    CHECK((l1.edx & (1u << 28)) != 0);
    CHECK((l1.ecx & (1u << 31)) != 0);
    CHECK(l1.eax == 0x00a00f11);

    const auto one = vcpu_cpuid(supported, 0, 1);
    CHECK((find_all(one, 1).at(0).edx & (1u << 28)) == (0x178bfbffu & (1u << 28)));
}

TEST_CASE("extended topology leaves are rebuilt: one thread per core, all vCPUs in one package") {
    const auto c = vcpu_cpuid(amd_like(), 2, 3);
    const auto b = find_all(c, 0xb);
    REQUIRE(b.size() == 3);
    CHECK(b[0].index == 0);
    CHECK(b[0].eax == 0);
    CHECK(b[0].ebx == 1);
    CHECK(b[0].ecx == 0x100);
    CHECK(b[0].edx == 2);
    CHECK(b[1].index == 1);
    CHECK(b[1].eax == 2);
    CHECK(b[1].ebx == 3);
    CHECK(b[1].ecx == 0x201);
    CHECK(b[1].edx == 2);
    CHECK(b[2].ecx == 2);  // level type 0: the end
    for (const auto& e : b)
        CHECK(e.flags == KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
    // Max basic leaf 0x10: no 0x1F.
    CHECK(find_all(c, 0x1f).empty());
}

TEST_CASE("leaf 0x1F appears where the maximum basic leaf reaches it") {
    auto s = amd_like();
    s[0].eax = 0x1f;
    const auto c = vcpu_cpuid(s, 1, 2);
    const auto f = find_all(c, 0x1f);
    REQUIRE(f.size() == 3);
    CHECK(f[1].ebx == 2);
    CHECK(f[1].edx == 1);
}

TEST_CASE("AMD leaves: core count and APIC id size, extended APIC id") {
    const auto c = vcpu_cpuid(amd_like(), 5, 8);
    const auto size = find_all(c, 0x80000008).at(0);
    CHECK((size.ecx & 0xff) == 7);
    CHECK(((size.ecx >> 12) & 0xf) == 3);
    CHECK(size.eax == 0x3030);
    const auto topo = find_all(c, 0x8000001e).at(0);
    CHECK(topo.eax == 5);
    CHECK(topo.ebx == 5);
    CHECK(topo.ecx == 0);
}

TEST_CASE("KVM's paravirtual leaves pass through unchanged") {
    const auto c = vcpu_cpuid(amd_like(), 0, 2);
    const auto sig = find_all(c, 0x40000000).at(0);
    CHECK(sig.ebx == 0x4b4d564b);
    CHECK(find_all(c, 0x40000001).at(0).eax == 0x01007afb);
}

TEST_CASE("vcpu_cpuid refuses an APIC id outside the VM") {
    CHECK_THROWS_AS(vcpu_cpuid(amd_like(), 2, 2), std::invalid_argument);
    CHECK_THROWS_AS(vcpu_cpuid(amd_like(), 0, 0), std::invalid_argument);
}

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "arch/x86_64/vcpu/cpuid.hpp"

using ktstr::vmm::x86_64::CpuTopology;
using ktstr::vmm::x86_64::vcpu_cpuid;

namespace {

using Table = std::vector<kvm_cpuid_entry2>;

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

// A subleaf with a significant index (leaf 4, 0xB, 0x1F, 0x8000001D).
kvm_cpuid_entry2 subleaf(std::uint32_t function, std::uint32_t index, std::uint32_t eax, std::uint32_t ebx = 0,
                         std::uint32_t ecx = 0, std::uint32_t edx = 0) {
    kvm_cpuid_entry2 e = leaf(function, index, eax, ebx, ecx, edx);
    e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    return e;
}

std::vector<kvm_cpuid_entry2> find_all(const Table& v, std::uint32_t function) {
    std::vector<kvm_cpuid_entry2> out;
    for (const auto& e : v)
        if (e.function == function)
            out.push_back(e);
    return out;
}

// Leaf 4 / 0x8000001D cache descriptor: type, level, host sharing and
// cores fields set to something the VMM must replace.
std::uint32_t cache_eax(std::uint32_t type, std::uint32_t level) {
    return type | (level << 5) | (1u << 8) | (0x3fu << 14) | (0x3fu << 26);
}

// What KVM reports on an AMD host: max basic leaf 0x10, KVM's paravirtual
// leaves, TOPOEXT, host topology values to replace.
Table amd_like() {
    return {leaf(0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65),  // AuthenticAMD
            leaf(1, 0, 0x00a00f11, 0xff100800, 0x7ed8320b, 0x178bfbff),
            subleaf(0xb, 0, 1, 2, 0x100, 7),  // host values KVM passed through
            leaf(0x40000000, 0, 0x40000001, 0x4b4d564b),
            leaf(0x40000001, 0, 0x01007afb),
            leaf(0x80000000, 0, 0x80000021),
            leaf(0x80000001, 0, 0, 0, 1u << 22),
            leaf(0x80000008, 0, 0x3030, 0, 0x0000703f),
            subleaf(0x8000001d, 0, cache_eax(1, 1), 0x01c0003f, 0x3f),
            subleaf(0x8000001d, 1, cache_eax(2, 1), 0x01c0003f, 0x3f),
            subleaf(0x8000001d, 2, cache_eax(3, 2), 0x01c0003f, 0x3ff),
            subleaf(0x8000001d, 3, cache_eax(3, 3), 0x03c0003f, 0x7fff),
            subleaf(0x8000001d, 4, 0),
            leaf(0x8000001e, 0, 0x12, 0x0103, 0x0201),
            subleaf(0x80000026, 0, 1, 2, 0x100, 7)};
}

// What the emulated host's QEMU TCG CPU gives: AMD family 0xF, max basic
// leaf 0xD, extended leaves up to 0x8000000A, no TOPOEXT, no 0x8000001D.
Table amd_old() {
    return {leaf(0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65),
            leaf(1, 0, 0x00060fb1, 0x00020800, 0x80a02209, 0x078bfbff),
            leaf(0x80000000, 0, 0x8000000a),
            leaf(0x80000001, 0, 0x00060fb1, 0, 0x00000007),
            leaf(0x80000008, 0, 0x3028, 0, 0x00000001)};
}

// What KVM reports on an Intel host: GenuineIntel, max basic leaf
// `max_basic`, four caches in leaf 4, host 0xB values.
Table intel_like(std::uint32_t max_basic) {
    Table t{leaf(0, 0, max_basic, 0x756e6547, 0x6c65746e, 0x49656e69),  // GenuineIntel
            leaf(1, 0, 0x000906ea, 0x00100800, 0xfffa3203, 0x1f8bfbff),
            subleaf(4, 0, cache_eax(1, 1), 0x01c0003f, 0x3f),
            subleaf(4, 1, cache_eax(2, 1), 0x01c0003f, 0x3f),
            subleaf(4, 2, cache_eax(3, 2), 0x00c0003f, 0x3ff),
            subleaf(4, 3, cache_eax(3, 3), 0x03c0003f, 0x2fff, 6),
            subleaf(4, 4, 0),
            subleaf(0xb, 0, 1, 2, 0x100, 3),
            subleaf(0xb, 1, 4, 12, 0x201, 3),
            leaf(0x80000000, 0, 0x80000008),
            leaf(0x80000001, 0, 0, 0, 0x121, 0x2c100800),
            leaf(0x80000008, 0, 0x3027, 0, 0)};
    if (max_basic >= 0x1f)
        t.push_back(subleaf(0x1f, 0, 1, 2, 0x100, 3));
    return t;
}

// CPUID as KVM answers the guest from a table: an entry with a significant
// index matches only its subleaf; a missing leaf reads as zeros (AMD) —
// the decoders below only read leaves within the maximum they checked.
kvm_cpuid_entry2 cpuid(const Table& t, std::uint32_t function, std::uint32_t index = 0) {
    for (const auto& e : t)
        if (e.function == function && (!(e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e.index == index))
            return e;
    return leaf(function, index);
}

std::uint32_t count_order(std::uint32_t n) {
    std::uint32_t o = 0;
    while ((1u << o) < n)
        ++o;
    return o;
}

// What Linux derives for one CPU from its CPUID (arch/x86/kernel/cpu:
// topology_ext.c, topology_amd.c, cacheinfo.c of 6.12; 6.1 reads the same
// fields).
struct Derived {
    std::uint32_t apic_id = 0;
    std::uint32_t package = 0;  // topology_physical_package_id
    std::uint32_t core = 0;     // package-relative core id
    std::uint32_t die = 0;      // 6.12's die_id (apicid >> the shift below the die)
    bool has_die = false;
    std::uint32_t smt_shift = 0;
    std::uint32_t threads_per_core = 0;
    // Cache sharing as APIC id ranges [first, first + span): how cacheinfo
    // builds shared_cpu_map (AMD: apicid - apicid % nshared; Intel:
    // apicid >> order(nshared) equal).
    std::uint32_t l2_first = 0, l2_span = 0;
    std::uint32_t llc_first = 0, llc_span = 0;
    // AMD only.
    std::uint32_t amd_core = 0, amd_node = 0, amd_nodes = 0, amd_threads = 0, amd_package_cpus = 0;
};

Derived decode(const Table& t, bool amd) {
    Derived d;
    const std::uint32_t max_basic = cpuid(t, 0).eax;
    d.apic_id = cpuid(t, 1).ebx >> 24;
    REQUIRE(max_basic >= 0xb);
    const std::uint32_t topo_leaf = max_basic >= 0x1f ? 0x1f : 0xb;
    std::uint32_t package_shift = 0;
    std::uint32_t core_shift = 0;
    for (std::uint32_t sub = 0;; ++sub) {
        const auto e = cpuid(t, topo_leaf, sub);
        const std::uint32_t type = (e.ecx >> 8) & 0xff;
        if (type == 0 || (e.ebx & 0xffff) == 0)
            break;
        REQUIRE((e.ecx & 0xff) == sub);
        CHECK(e.edx == d.apic_id);  // the x2APIC id agrees with leaf 1's
        if (type == 1) {
            d.smt_shift = e.eax & 0x1f;
            d.threads_per_core = e.ebx & 0xffff;
        } else if (type == 2) {
            core_shift = e.eax & 0x1f;
        } else if (type == 5) {
            d.has_die = true;
        } else {
            FAIL("unexpected level type " << type);
        }
        package_shift = e.eax & 0x1f;
    }
    d.package = d.apic_id >> package_shift;
    d.core = (d.apic_id & ((1u << package_shift) - 1)) >> d.smt_shift;
    d.die = d.apic_id >> core_shift;

    // Cache leaves: Intel's 4, AMD's 0x8000001D (TOPOEXT).
    const std::uint32_t cache_leaf = amd ? 0x8000001d : 4;
    if (amd) {
        REQUIRE((cpuid(t, 0x80000001).ecx & (1u << 22)) != 0);
        REQUIRE(cpuid(t, 0x80000000).eax >= 0x8000001e);
    }
    for (std::uint32_t sub = 0;; ++sub) {
        const auto e = cpuid(t, cache_leaf, sub);
        if ((e.eax & 0x1f) == 0)
            break;
        const std::uint32_t level = (e.eax >> 5) & 7;
        const std::uint32_t nshared = ((e.eax >> 14) & 0xfff) + 1;
        const std::uint32_t first = d.apic_id - d.apic_id % nshared;
        // Linux's two ways agree only for a power-of-two span.
        CHECK((nshared & (nshared - 1)) == 0);
        CHECK(first == (d.apic_id >> count_order(nshared)) << count_order(nshared));
        if (level == 2) {
            d.l2_first = first;
            d.l2_span = nshared;
        }
        if (level >= 3) {
            d.llc_first = first;
            d.llc_span = nshared;
        }
        // Ways, line size, sets: something a cache can be.
        CHECK((e.ebx & 0xfff) == 63);
        CHECK(e.ecx != 0);
        if (!amd) {
            // Cores per package: at least the cores the package numbers.
            CHECK(((e.eax >> 26) & 0x3f) + 1 == 1u << (package_shift - d.smt_shift));
        }
        if (sub > 8)
            FAIL("no terminating cache subleaf");
    }
    REQUIRE(d.llc_span != 0);
    REQUIRE(d.l2_span != 0);

    const auto l1 = cpuid(t, 1);
    CHECK(((l1.ebx >> 16) & 0xff) == std::min(1u << package_shift, 255u));
    if ((1u << package_shift) > 1)
        CHECK(((l1.edx >> 28) & 1) == 1);  // HTT: leaf 1's count is valid

    if (amd) {
        const auto size = cpuid(t, 0x80000008);
        CHECK(((size.ecx >> 12) & 0xf) == package_shift);
        const auto x = cpuid(t, 0x8000001e);
        CHECK(x.eax == d.apic_id);
        d.amd_core = x.ebx & 0xff;
        d.amd_threads = ((x.ebx >> 8) & 0xff) + 1;
        d.amd_node = x.ecx & 0xff;
        d.amd_nodes = ((x.ecx >> 8) & 7) + 1;
        d.amd_package_cpus = (size.ecx & 0xff) + 1;
    }
    return d;
}

// Every vCPU's CPUID decoded, checked against what the topology says.
void check_topology_seen(const Table& supported, const CpuTopology& topo, bool amd) {
    const std::uint32_t n = static_cast<std::uint32_t>(topo.cpus());
    std::vector<Derived> d;
    for (std::uint32_t i = 0; i < n; ++i) {
        INFO("vCPU " << i);
        d.push_back(decode(vcpu_cpuid(supported, topo, i), amd));
        CHECK(d.back().apic_id == topo.apic_id(i));
    }
    std::set<std::uint32_t> apic_ids;
    std::set<std::pair<std::uint32_t, std::uint32_t>> cores;  // (package, core)
    for (std::uint32_t i = 0; i < n; ++i) {
        INFO("vCPU " << i << " of " << topo.nodes << "," << topo.llcs_per_node << "," << topo.cores_per_llc << ","
                     << topo.threads_per_core);
        const auto p = topo.place(i);
        apic_ids.insert(d[i].apic_id);
        cores.insert({d[i].package, d[i].core});
        CHECK(d[i].package == p.node);
        CHECK(d[i].threads_per_core == topo.threads_per_core);
        // Intel: a DIE level for more than one LLC per node; AMD: never (the
        // LLC is 0x8000001E's node).
        CHECK(d[i].has_die == (!amd && topo.llcs_per_node > 1));
        if (d[i].has_die)
            CHECK(d[i].die == (p.node << topo.llc_bits()) + p.llc);
        if (amd) {
            CHECK(d[i].amd_threads == topo.threads_per_core);
            CHECK(d[i].amd_node == topo.llc_index(i));
            CHECK(d[i].amd_nodes == 1);
            CHECK(d[i].amd_core == d[i].core);
            CHECK(d[i].amd_package_cpus == topo.llcs_per_node * topo.cores_per_llc * topo.threads_per_core);
        }
        for (std::uint32_t j = 0; j < n; ++j) {
            const auto q = topo.place(j);
            INFO("vCPU " << j);
            const bool same_core = p.node == q.node && p.llc == q.llc && p.core == q.core;
            const bool same_llc = p.node == q.node && p.llc == q.llc;
            // thread_siblings: same package and core id.
            CHECK((d[i].package == d[j].package && d[i].core == d[j].core) == same_core);
            const auto in = [&](std::uint32_t first, std::uint32_t span) {
                return d[j].apic_id >= first && d[j].apic_id < first + span;
            };
            CHECK(in(d[i].l2_first, d[i].l2_span) == same_core);
            CHECK(in(d[i].llc_first, d[i].llc_span) == same_llc);
            // AMD before family 0x17: Linux's LLC id is 0x8000001E's node.
            if (amd)
                CHECK((d[i].amd_node == d[j].amd_node) == same_llc);
        }
    }
    CHECK(apic_ids.size() == n);
    CHECK(cores.size() == topo.nodes * topo.llcs_per_node * topo.cores_per_llc);
}

const std::vector<CpuTopology> topologies{
    {2, 1, 2, 2}, {1, 2, 3, 2}, {2, 2, 2, 1}, CpuTopology::flat(4), CpuTopology::flat(1), {3, 1, 3, 3}, {2, 4, 4, 2}};

}  // namespace

TEST_CASE("Linux's view of every vCPU matches the topology: Intel-style host, leaf 0xB only") {
    for (const auto& t : topologies)
        check_topology_seen(intel_like(0xd), t, false);
}

TEST_CASE("Linux's view of every vCPU matches the topology: Intel-style host with leaf 0x1F") {
    for (const auto& t : topologies)
        check_topology_seen(intel_like(0x1f), t, false);
}

TEST_CASE("Linux's view of every vCPU matches the topology: AMD-style host") {
    for (const auto& t : topologies)
        check_topology_seen(amd_like(), t, true);
}

TEST_CASE("Linux's view of every vCPU matches the topology: old AMD without TOPOEXT (the emulated host)") {
    for (const auto& t : topologies)
        check_topology_seen(amd_old(), t, true);
}

TEST_CASE("leaf 1 carries the vCPU's APIC id, the package span and the hypervisor bit") {
    const auto supported = amd_like();
    const auto c = vcpu_cpuid(supported, CpuTopology::flat(4), 3);
    const auto l1 = find_all(c, 1).at(0);
    CHECK((l1.ebx >> 24) == 3);
    CHECK(((l1.ebx >> 16) & 0xff) == 4);
    CHECK((l1.ebx & 0xffff) == 0x0800);  // CLFLUSH size and brand index kept
    CHECK((l1.edx & (1u << 28)) != 0);
    CHECK((l1.ecx & (1u << 31)) != 0);
    CHECK(l1.eax == 0x00a00f11);

    const auto one = vcpu_cpuid(supported, CpuTopology::flat(1), 0);
    CHECK((find_all(one, 1).at(0).edx & (1u << 28)) == (0x178bfbffu & (1u << 28)));
}

TEST_CASE("flat topologies keep the old leaf 0xB: one thread per core, all vCPUs in one package") {
    const auto c = vcpu_cpuid(amd_like(), CpuTopology::flat(3), 2);
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
    // Max basic leaf 0x10 and one LLC: no 0x1F, leaf 0 untouched.
    CHECK(find_all(c, 0x1f).empty());
    CHECK(find_all(c, 0).at(0).eax == 0x10);
}

TEST_CASE("Intel: more than one LLC per node raises the maximum basic leaf to 0x1F for its DIE level") {
    const auto c = vcpu_cpuid(intel_like(0xd), CpuTopology{1, 2, 3, 2}, 7);  // node 0, LLC 1, core 0, thread 1
    CHECK(find_all(c, 0).at(0).eax == 0x1f);
    const auto f = find_all(c, 0x1f);
    REQUIRE(f.size() == 4);
    CHECK(f[0].eax == 1);  // SMT: 1 bit
    CHECK(f[1].eax == 3);  // core: + 2 bits for 3 cores
    CHECK(f[1].ebx == 6);
    CHECK(f[2].ecx == ((5u << 8) | 2));  // DIE
    CHECK(f[2].eax == 4);
    CHECK(f[2].ebx == 12);
    CHECK(f[3].ecx == 3);
    CHECK(f[0].edx == 0b1001);
}

TEST_CASE("AMD: no DIE level; the LLC is 0x8000001E's node") {
    const auto c = vcpu_cpuid(amd_like(), CpuTopology{1, 2, 3, 2}, 7);  // node 0, LLC 1, core 0, thread 1
    CHECK(find_all(c, 0).at(0).eax == 0x10);
    CHECK(find_all(c, 0x1f).empty());
    CHECK(find_all(c, 0x8000001e).at(0).ecx == 1);
    const auto d = vcpu_cpuid(amd_like(), CpuTopology{2, 2, 2, 1}, 6);  // node 1, LLC 1
    CHECK(find_all(d, 0x8000001e).at(0).ecx == 3);
}

TEST_CASE("AMD leaves: core count and APIC id size, extended APIC id, node") {
    const auto c = vcpu_cpuid(amd_like(), CpuTopology{2, 1, 2, 2}, 5);  // node 1, core 0, thread 1
    const auto size = find_all(c, 0x80000008).at(0);
    CHECK((size.ecx & 0xff) == 3);
    CHECK(((size.ecx >> 12) & 0xf) == 2);
    CHECK(size.eax == 0x3030);
    const auto topo = find_all(c, 0x8000001e).at(0);
    CHECK(topo.eax == 5);
    CHECK(topo.ebx == 0x0100);
    CHECK(topo.ecx == 1);
    CHECK(find_all(c, 0x80000026).empty());
    // The host's cache geometry is kept; only the sharing changes.
    const auto l3 = find_all(c, 0x8000001d).at(3);
    CHECK(l3.ebx == 0x03c0003f);
    CHECK(l3.ecx == 0x7fff);
    CHECK(((l3.eax >> 14) & 0xfff) == 3);
    CHECK((l3.eax >> 26) == 0);
}

TEST_CASE("an Intel host gets no AMD leaves, an AMD host keeps leaf 4 as it was") {
    const auto intel = vcpu_cpuid(intel_like(0xd), CpuTopology{2, 1, 2, 2}, 0);
    CHECK(find_all(intel, 0x8000001e).empty());
    CHECK(find_all(intel, 0x8000001d).empty());
    CHECK((find_all(intel, 0x80000001).at(0).ecx & (1u << 22)) == 0);
    CHECK(find_all(intel, 0x80000008).at(0).ecx == 0);
    CHECK(find_all(intel, 0x80000000).at(0).eax == 0x80000008);
    auto amd = amd_like();
    amd.push_back(subleaf(4, 0, cache_eax(1, 1), 1, 2, 3));
    const auto c = vcpu_cpuid(amd, CpuTopology{2, 1, 2, 2}, 3);
    CHECK(find_all(c, 4).at(0).eax == cache_eax(1, 1));
}

TEST_CASE("KVM's paravirtual leaves pass through unchanged") {
    const auto c = vcpu_cpuid(amd_like(), CpuTopology::flat(2), 0);
    const auto sig = find_all(c, 0x40000000).at(0);
    CHECK(sig.ebx == 0x4b4d564b);
    CHECK(find_all(c, 0x40000001).at(0).eax == 0x01007afb);
}

TEST_CASE("vcpu_cpuid refuses a vCPU outside the VM and a bad topology") {
    CHECK_THROWS_AS(vcpu_cpuid(amd_like(), CpuTopology::flat(2), 2), std::invalid_argument);
    CHECK_THROWS_AS(vcpu_cpuid(amd_like(), CpuTopology::flat(0), 0), std::invalid_argument);
    CHECK_THROWS_AS(vcpu_cpuid(amd_like(), CpuTopology{2, 0, 1, 1}, 0), std::invalid_argument);
}

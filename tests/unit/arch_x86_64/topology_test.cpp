#include <catch2/catch.hpp>

#include <set>
#include <stdexcept>
#include <string>

#include "arch/x86_64/layout.hpp"
#include "arch/x86_64/topology.hpp"

using namespace ktstr::vmm::x86_64;

TEST_CASE("topology_shift counts the bits that number the items") {
    CHECK(topology_shift(1) == 0);
    CHECK(topology_shift(2) == 1);
    CHECK(topology_shift(3) == 2);
    CHECK(topology_shift(4) == 2);
    CHECK(topology_shift(5) == 3);
    CHECK(topology_shift(254) == 8);
}

TEST_CASE("a flat topology gives vCPU i the APIC id i") {
    const auto t = CpuTopology::flat(5);
    CHECK(t.cpus() == 5);
    for (std::uint32_t i = 0; i < 5; ++i) {
        CHECK(t.apic_id(i) == i);
        CHECK(t.place(i) == CpuPlace{0, 0, i, 0});
    }
}

TEST_CASE("APIC ids pack thread, core, LLC and node bits, each as wide as its count needs") {
    const CpuTopology t{2, 1, 2, 2};
    CHECK(t.cpus() == 8);
    CHECK(t.thread_bits() == 1);
    CHECK(t.core_bits() == 1);
    CHECK(t.llc_bits() == 0);
    CHECK(t.node_shift() == 2);
    for (std::uint32_t i = 0; i < 8; ++i)
        CHECK(t.apic_id(i) == i);  // all powers of two: dense
    CHECK(t.place(5) == CpuPlace{1, 0, 0, 1});

    const CpuTopology u{1, 2, 3, 2};  // 3 cores take 2 bits: ids are sparse
    CHECK(u.core_shift() == 1);
    CHECK(u.llc_shift() == 3);
    CHECK(u.node_shift() == 4);
    CHECK(u.place(7) == CpuPlace{0, 1, 0, 1});
    CHECK(u.apic_id(7) == 0b1001);
    CHECK(u.apic_id(11) == 0b1101);  // LLC 1, core 2, thread 1
    CHECK(u.llc_index(11) == 1);

    const CpuTopology w{2, 2, 2, 1};
    CHECK(w.apic_id(6) == 0b110);
    CHECK(w.place(6) == CpuPlace{1, 1, 0, 0});
    CHECK(w.llc_index(6) == 3);

    // Every vCPU of a sparse topology gets its own id, in increasing order
    // (the MADT lists them in vCPU order, Linux numbers CPUs that way).
    const CpuTopology v{3, 3, 3, 3};
    std::uint32_t last = 0;
    for (std::uint32_t i = 0; i < v.cpus(); ++i) {
        const auto id = v.apic_id(i);
        if (i > 0)
            CHECK(id > last);
        last = id;
        const auto p = v.place(i);
        CHECK(((id >> v.node_shift()) == p.node));
        CHECK((((id >> v.llc_shift()) & 3) == p.llc));
        CHECK((((id >> v.core_shift()) & 3) == p.core));
        CHECK(((id & 3) == p.thread));
    }
}

TEST_CASE("parse_topology reads NODES,LLCS,CORES,THREADS") {
    CHECK(parse_topology("2,1,2,2") == CpuTopology{2, 1, 2, 2});
    CHECK(parse_topology("1,2,3,2") == CpuTopology{1, 2, 3, 2});
    CHECK(parse_topology("1,1,254,1") == CpuTopology::flat(254));
}

TEST_CASE("parse_topology refuses bad text with a one-line reason") {
    const auto refused = [](const char* text, const char* phrase) {
        INFO(text);
        try {
            (void)parse_topology(text);
            FAIL("accepted");
        } catch (const std::invalid_argument& e) {
            const std::string what = e.what();
            CHECK(what.find(phrase) != std::string::npos);
            CHECK(what.find('\n') == std::string::npos);
            CHECK(what.find(text) != std::string::npos);
        }
    };
    refused("", "expected 4 numbers");
    refused("2,2,2", "expected 4 numbers");
    refused("2,2,2,2,2", "expected 4 numbers");
    refused("2,,2,2", "expected 4 numbers");
    refused("2,2,2,", "expected 4 numbers");
    refused("2,x,2,2", "'x' is not a decimal number");
    refused("2, 1,2,2", "' 1' is not a decimal number");
    refused("-1,1,2,2", "'-1' is not a decimal number");
    refused("2,1,2,2k", "'2k' is not a decimal number");
    refused("99999999999,1,1,1", "is too large");
    refused("2,0,2,2", "at least 1");
    refused("65536,65536,65536,65536", "vCPUs; at most 254");  // the product overflows 32 bits
    refused("1,1,255,1", "255 vCPUs; at most 254");
    refused("2,1,3,33", "needs APIC id 416; at most 254");  // 198 vCPUs, but sparse: 1 << 8 | 2 << 6 | 32
    refused("3,1,1,65", "needs APIC id");
}

TEST_CASE("check_topology accepts the largest dense shapes") {
    CHECK_NOTHROW(check_topology({1, 1, 254, 1}));
    CHECK_NOTHROW(check_topology({2, 1, 63, 2}));  // highest id 1 << 7 | 62 << 1 | 1 = 253
    CHECK_THROWS_AS(check_topology({2, 1, 64, 2}), std::invalid_argument);
    CHECK(max_cpus == 254);
}

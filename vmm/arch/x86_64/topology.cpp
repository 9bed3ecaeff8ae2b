// CpuTopology: counts, APIC id packing, the --topology text.
#include "arch/x86_64/topology.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

#include "arch/x86_64/layout.hpp"

namespace ktstr::vmm::x86_64 {

std::uint32_t topology_shift(std::uint32_t count) noexcept {
    std::uint32_t shift = 0;
    while (shift < 32 && (1ull << shift) < count)
        ++shift;
    return shift;
}

std::uint64_t CpuTopology::cpus() const noexcept {
    return std::uint64_t{nodes} * llcs_per_node * cores_per_llc * threads_per_core;
}

std::uint32_t CpuTopology::thread_bits() const noexcept { return topology_shift(threads_per_core); }
std::uint32_t CpuTopology::core_bits() const noexcept { return topology_shift(cores_per_llc); }
std::uint32_t CpuTopology::llc_bits() const noexcept { return topology_shift(llcs_per_node); }
std::uint32_t CpuTopology::node_bits() const noexcept { return topology_shift(nodes); }

CpuPlace CpuTopology::place(std::uint32_t vcpu) const noexcept {
    CpuPlace p;
    p.thread = vcpu % threads_per_core;
    vcpu /= threads_per_core;
    p.core = vcpu % cores_per_llc;
    vcpu /= cores_per_llc;
    p.llc = vcpu % llcs_per_node;
    p.node = vcpu / llcs_per_node;
    return p;
}

std::uint32_t CpuTopology::apic_id(std::uint32_t vcpu) const noexcept {
    const CpuPlace p = place(vcpu);
    return (p.node << node_shift()) | (p.llc << llc_shift()) | (p.core << core_shift()) | p.thread;
}

std::uint32_t CpuTopology::llc_index(std::uint32_t vcpu) const noexcept {
    const CpuPlace p = place(vcpu);
    return p.node * llcs_per_node + p.llc;
}

namespace {

// The product as text; counts above max_cpus may overflow 64 bits, and
// a double holds such a product exactly enough for a message.
std::string vcpu_count_text(const CpuTopology& t) {
    const double n = double{1} * t.nodes * t.llcs_per_node * t.cores_per_llc * t.threads_per_core;
    return fmt::format("{:.0f}", n);
}

}  // namespace

void check_topology(const CpuTopology& t) {
    if (t.nodes == 0 || t.llcs_per_node == 0 || t.cores_per_llc == 0 || t.threads_per_core == 0)
        throw std::invalid_argument(fmt::format("topology {},{},{},{}: every count must be at least 1", t.nodes,
                                                t.llcs_per_node, t.cores_per_llc, t.threads_per_core));
    // Each count at most max_cpus first, so the product cannot overflow.
    if (std::max({t.nodes, t.llcs_per_node, t.cores_per_llc, t.threads_per_core}) > max_cpus || t.cpus() > max_cpus)
        throw std::invalid_argument(fmt::format("topology {},{},{},{} makes {} vCPUs; at most {}", t.nodes,
                                                t.llcs_per_node, t.cores_per_llc, t.threads_per_core,
                                                vcpu_count_text(t), max_cpus));
    // The last vCPU has the highest id (every field at its maximum); with
    // at most max_cpus vCPUs the fields take at most 12 bits together.
    const std::uint32_t last_id = t.apic_id(static_cast<std::uint32_t>(t.cpus() - 1));
    if (last_id > max_apic_id)
        throw std::invalid_argument(fmt::format(
            "topology {},{},{},{} needs APIC id {}; at most {} (round the counts to powers of two: each field "
            "of the id takes the bits its count needs)",
            t.nodes, t.llcs_per_node, t.cores_per_llc, t.threads_per_core, last_id, max_apic_id));
}

CpuTopology parse_topology(std::string_view text) {
    const std::string_view whole = text;
    auto bad = [&](std::string_view why) {
        return std::invalid_argument(fmt::format("topology '{}': {} (NODES,LLCS,CORES,THREADS, e.g. 2,1,2,2)",
                                                 whole, why));
    };
    std::array<std::uint32_t, 4> v{};
    for (std::size_t i = 0; i < v.size(); ++i) {
        const auto comma = text.find(',');
        const std::string_view part = text.substr(0, comma);
        if (part.empty())
            throw bad("expected 4 numbers separated by commas");
        const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v[i]);
        if (ec == std::errc::result_out_of_range)
            throw bad(fmt::format("{} is too large", part));
        if (ec != std::errc() || end != part.data() + part.size())
            throw bad(fmt::format("'{}' is not a decimal number", part));
        if ((comma == std::string_view::npos) != (i + 1 == v.size()))
            throw bad("expected 4 numbers separated by commas");
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    }
    const CpuTopology t{v[0], v[1], v[2], v[3]};
    check_topology(t);
    return t;
}

}  // namespace ktstr::vmm::x86_64

// The SLIT (signature "SLIT", ACPI 6.3 §5.2.17): relative distances
// between NUMA nodes, 10 to itself and 20 to every other (the values
// Linux assumes without a SLIT; written out so numactl and the
// scheduler's NUMA levels read them from the table). Added to the XSDT
// only when the topology has more than one node.
#pragma once

#include <cstdint>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::x86_64::acpi {

inline constexpr std::uint8_t slit_revision = 1;
inline constexpr std::uint8_t slit_local_distance = 10;
inline constexpr std::uint8_t slit_remote_distance = 20;
inline constexpr std::size_t slit_matrix_offset = 44;  // header, then the u64 locality count

// Throws LayoutError for 0 nodes or more than max_cpus (no node without
// a CPU).
byte_buffer build_slit(std::uint32_t nodes);

}  // namespace ktstr::vmm::x86_64::acpi

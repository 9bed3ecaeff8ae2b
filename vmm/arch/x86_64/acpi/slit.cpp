// SLIT: the node distance matrix.
#include "arch/x86_64/acpi/slit.hpp"

#include <fmt/core.h>

#include "arch/x86_64/acpi/sdt.hpp"
#include "arch/x86_64/layout.hpp"

namespace ktstr::vmm::x86_64::acpi {

byte_buffer build_slit(std::uint32_t nodes) {
    if (nodes == 0 || nodes > max_cpus)
        throw LayoutError(fmt::format("SLIT: {} nodes; 1..{} fit", nodes, max_cpus));
    byte_buffer t = begin_sdt("SLIT", slit_revision);
    append_le<std::uint64_t>(t, nodes);
    for (std::uint32_t i = 0; i < nodes; ++i)
        for (std::uint32_t j = 0; j < nodes; ++j)
            t.push_back(i == j ? slit_local_distance : slit_remote_distance);
    finish_sdt(t);
    return t;
}

}  // namespace ktstr::vmm::x86_64::acpi

#include "ktstr/guest/boot_mark_writer.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "ktstr/guest/paths.hpp"
#include "ktstr/guest/shm_writer.hpp"

namespace ktstr::guest {

std::string write_boot_mark(std::string_view cmdline, BootMark mark) {
    const auto address = cmdline_params::parse_boot_mark_address(cmdline);
    if (!address)
        return {};
    try {
        const PhysMapping page = PhysMapping::map(paths().dev_mem, *address, sizeof(std::uint32_t));
        // One 32-bit store the VMM sees as an MMIO write; volatile so it is
        // neither dropped nor split.
        *reinterpret_cast<volatile std::uint32_t*>(page.data()) = static_cast<std::uint32_t>(mark);
        return {};
    } catch (const std::runtime_error& e) {
        return e.what();
    }
}

}  // namespace ktstr::guest

#include "ktstr/host/shm_control.hpp"

namespace ktstr::host {
namespace {

std::optional<SharedRegion> ring_header(const GuestMemory& memory, std::uint64_t shm_base) noexcept {
    return memory.region(shm_base, shm::header_size);
}

}  // namespace

bool signal_guest_value(const GuestMemory& memory, std::uint64_t shm_base, std::size_t slot,
                        std::uint8_t value) noexcept {
    if (slot >= shm::signal_slot_count)
        return false;
    auto header = ring_header(memory, shm_base);
    if (!header)
        return false;
    ring_signal(*header, slot, value);
    return true;
}

std::optional<std::uint8_t> read_guest_signal(const GuestMemory& memory, std::uint64_t shm_base,
                                              std::size_t slot) noexcept {
    if (slot >= shm::signal_slot_count)
        return std::nullopt;
    auto header = ring_header(memory, shm_base);
    if (!header)
        return std::nullopt;
    return ring_read_signal(*header, slot);
}

bool request_dump(const GuestMemory& memory, std::uint64_t shm_base) noexcept {
    auto header = ring_header(memory, shm_base);
    if (!header)
        return false;
    ring_store_control(*header, shm::dump_req_offset, shm::dump_req_sysrq_d);
    return true;
}

bool request_stall(const GuestMemory& memory, std::uint64_t shm_base) noexcept {
    auto header = ring_header(memory, shm_base);
    if (!header)
        return false;
    ring_store_control(*header, shm::stall_req_offset, shm::stall_req_activate);
    return true;
}

}  // namespace ktstr::host

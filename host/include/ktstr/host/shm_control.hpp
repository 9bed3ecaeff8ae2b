// Host -> guest control bytes of the SHM ring header (docs/wire-format.md):
// the dump request (offset 12), the stall request (13) and the two signal
// slots (14, 15), addressed through guest memory.
//
// The ring region is found at guest-physical `shm_base`; a control byte is
// written only when the whole 40-byte ring header lies inside one guest
// mapping (the common ring code bounds control bytes by the header). A
// base that is unmapped, too close to a mapping's end, or whose address
// arithmetic would wrap writes nothing and returns false.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "ktstr/common/guest_memory.hpp"

namespace ktstr::host {

// Stores `value` into signal slot `slot` (< shm::signal_slot_count) with
// release ordering. Slot 0 with shm::signal_shutdown_req asks the guest to
// shut down. false: slot out of range or header not mapped.
bool signal_guest_value(const GuestMemory& memory, std::uint64_t shm_base, std::size_t slot,
                        std::uint8_t value) noexcept;

// The slot's current value (acquire), e.g. shm::signal_probes_ready set by
// the guest in slot 1; nullopt when the slot or the header is not valid.
std::optional<std::uint8_t> read_guest_signal(const GuestMemory& memory, std::uint64_t shm_base,
                                              std::size_t slot) noexcept;

// Writes 'D' (SysRq-D dump) / 'S' (scheduler stall) into the request
// byte; the guest acts on it and clears it back to 0.
bool request_dump(const GuestMemory& memory, std::uint64_t shm_base) noexcept;
bool request_stall(const GuestMemory& memory, std::uint64_t shm_base) noexcept;

}  // namespace ktstr::host

// The guest's memory as the host holds it: one anonymous mapping and one
// KVM memory slot per RAM range of the MemoryMap, and the SHM region in a
// mapping and slot of its own (so the host can hand out exactly that range
// to the ring code, and never mistake it for RAM a device may use).
//
// The SHM region's ring header is initialised (common ring_init) when the
// object is built, so it is ready before the first vCPU runs.
//
// Destruction removes the slots before unmapping. The VM passed in must
// outlive the GuestRam.
#pragma once

#include <cstdint>
#include <vector>

#include <ktstr/common/bytes.hpp>
#include <ktstr/common/guest_memory.hpp>
#include <ktstr/common/shm_ring.hpp>

#include "kvm/kvm_vm.hpp"
#include "kvm/memory_mapping.hpp"
#include "memory/memory_map.hpp"

namespace ktstr::vmm::machine {

class GuestRam {
public:
    // Maps and registers every range. Throws KvmError (mmap, slot refused)
    // or std::invalid_argument for a map with unaligned or overlapping
    // ranges.
    GuestRam(const kvm::KvmVm& vm, const MemoryMap& map);
    GuestRam(const GuestRam&) = delete;
    GuestRam& operator=(const GuestRam&) = delete;

    // Copies `bytes` to guest-physical `gpa`; the whole range must lie in
    // one RAM range (std::out_of_range otherwise).
    void write(std::uint64_t gpa, byte_view bytes);
    // Host bytes of guest RAM [gpa, gpa + len) or std::out_of_range.
    mutable_byte_view ram_bytes(std::uint64_t gpa, std::uint64_t len) const;

    // The RAM a device may touch (the SHM region is not part of it).
    const GuestMemory& device_view() const noexcept { return view_; }
    // The SHM region, as the ring code reads it while the guest writes.
    SharedRegion shm() const noexcept;
    GuestRange shm_range() const noexcept { return shm_range_; }

private:
    struct Range {
        GuestRange guest;
        kvm::MemoryMapping host;
    };

    std::vector<Range> ram_;
    GuestRange shm_range_;
    kvm::MemoryMapping shm_;
    GuestMemory view_;
    // Last: removed from KVM before the mappings above go.
    std::vector<kvm::UserMemoryRegion> slots_;
};

}  // namespace ktstr::vmm::machine

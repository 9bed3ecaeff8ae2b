// The host's view of guest-physical memory: the VMM's mappings of guest RAM
// (and of the SHM region), each a {guest-physical start, size, host pointer}.
//
// Every access names a guest-physical range [gpa, gpa + len) and is checked
// on its start AND its length against one mapping, with arithmetic that
// cannot wrap; the host pointer is formed only after the check passes, so
// the host never points outside a mapping. A range that straddles two
// mappings is refused even when they are adjacent: nothing the host reads
// (the SHM region, a control byte) legitimately crosses a mapping boundary.
// An empty range names no bytes and is refused too.
//
// The guest runs concurrently, so nothing is read or written as plain
// memory: aligned u32/u64 words through atomics (acquire loads, release
// stores), everything else through volatile byte copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/shm_ring.hpp"

namespace ktstr::host {

// One mapping: the guest sees `host[0, size)` at guest-physical
// [guest_phys, guest_phys + size).
struct GuestMemoryRegion {
    std::uint64_t guest_phys = 0;
    std::uint64_t size = 0;
    std::uint8_t* host = nullptr;
};

class GuestMemory {
public:
    GuestMemory() = default;

    // The mappings must outlive this view and every copy of it. Throws
    // std::invalid_argument for a null host pointer, a zero size, a range
    // that wraps past 2^64 (guest or host side) or two overlapping ranges.
    explicit GuestMemory(std::vector<GuestMemoryRegion> regions);

    // The host bytes of [gpa, gpa + len) as a region shared with the guest
    // (for the common ring code), or nullopt if no single mapping holds the
    // whole range.
    std::optional<SharedRegion> region(std::uint64_t gpa, std::uint64_t len) const noexcept;
    bool contains(std::uint64_t gpa, std::uint64_t len) const noexcept;

    std::optional<std::uint8_t> read_u8(std::uint64_t gpa) const noexcept;
    std::optional<std::uint32_t> read_u32(std::uint64_t gpa) const noexcept;  // little-endian
    std::optional<std::uint64_t> read_u64(std::uint64_t gpa) const noexcept;  // little-endian
    // false (and nothing written) when the range is not mapped.
    bool write_u8(std::uint64_t gpa, std::uint8_t value) const noexcept;
    bool write_u32(std::uint64_t gpa, std::uint32_t value) const noexcept;
    bool write_u64(std::uint64_t gpa, std::uint64_t value) const noexcept;

    // Copies [gpa, gpa + out.size()) into `out` / `in` into guest memory.
    // false (nothing copied) when the range is not mapped or empty.
    bool read(std::uint64_t gpa, mutable_byte_view out) const noexcept;
    bool write(std::uint64_t gpa, byte_view in) const noexcept;

    std::span<const GuestMemoryRegion> regions() const noexcept { return regions_; }

private:
    // Host address of [gpa, gpa + len), or nullptr.
    std::uint8_t* translate(std::uint64_t gpa, std::uint64_t len) const noexcept;

    std::vector<GuestMemoryRegion> regions_;  // sorted by guest_phys, disjoint
};

// Volatile copies between memory the guest may be writing and host buffers
// (the primitive under GuestMemory::read/write, also used to capture a
// SharedRegion). Copies min(src.size(), dst.size()) bytes.
void copy_from_shared(SharedRegion src, mutable_byte_view dst) noexcept;

}  // namespace ktstr::host

// Guest-physical memory as the host holds it: the VMM's mappings of guest
// RAM (and of the SHM region), each a guest-physical start and the host
// bytes the guest sees there. The one view shared by the devices (buffers
// named by virtqueue descriptors) and the host library (the SHM ring,
// control bytes).
//
// Checks. Every access names a guest-physical range [gpa, gpa + len) and is
// checked on its start AND its length against one mapping, with arithmetic
// that cannot wrap; a host address is formed only after the check passes,
// so nothing the guest names ever points outside a mapping. A range that
// straddles two mappings is refused even when they are adjacent: no device
// buffer and nothing the host reads legitimately crosses a mapping
// boundary.
//
// Why volatile. The guest runs while the host reads and writes, so the
// accessors below never touch guest memory as plain memory: aligned
// u32/u64 words (and bytes) through acquire/release atomics, everything
// else through volatile byte copies (shared_access.hpp). translate() hands
// out the host bytes themselves; a caller of it owns the access discipline
// (the devices order their ring indices with atomics of their own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/shm_ring.hpp"

namespace ktstr {

// One mapping: the guest sees `host` at guest-physical
// [guest_phys, guest_phys + host.size()).
struct GuestMemoryRegion {
    std::uint64_t guest_phys = 0;
    mutable_byte_view host;
};

class GuestMemory {
public:
    GuestMemory() = default;

    // The mappings must outlive this view and every copy of it (and every
    // device holding it). Throws std::invalid_argument for a region without
    // host bytes, one that wraps past 2^64 (guest or host side) or two
    // overlapping regions.
    explicit GuestMemory(std::vector<GuestMemoryRegion> regions);

    // Host bytes of [gpa, gpa + len) when one mapping holds the whole range,
    // nullopt otherwise. An empty range at or inside a mapping gives an
    // empty view (a zero-byte copy needs no bytes).
    std::optional<mutable_byte_view> translate(std::uint64_t gpa, std::uint64_t len) const noexcept;

    // The rest names bytes to share, so an empty range is refused.

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
    // Host address of the non-empty range [gpa, gpa + len), or nullptr.
    std::uint8_t* shared_bytes(std::uint64_t gpa, std::uint64_t len) const noexcept;
    template <typename T>
    std::optional<T> load(std::uint64_t gpa) const noexcept;
    template <typename T>
    bool store(std::uint64_t gpa, T value) const noexcept;

    std::vector<GuestMemoryRegion> regions_;  // sorted by guest_phys, disjoint
};

}  // namespace ktstr

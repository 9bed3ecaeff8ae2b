// The boot timer: a page of MMIO the guest writes boot marks to
// (ktstr/common/boot_mark.hpp), and the host time of each mark's first
// write. The guest's value is a number, nothing more: a mark outside the
// known ones, a write at another offset or of another width is ignored, and
// a mark written again keeps its first time.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include <ktstr/common/boot_mark.hpp>
#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::devices {

class BootTimer {
public:
    using clock = std::chrono::steady_clock;

    static constexpr std::uint64_t page_size = 0x1000;

    // A guest write (any vCPU thread, concurrently).
    void write(std::uint64_t offset, byte_view data) noexcept;
    // Reads give zeros: the page holds nothing the guest could use.
    static void read(std::uint64_t offset, mutable_byte_view data) noexcept;

    // When `mark` was first written, or nullopt.
    std::optional<clock::time_point> first(BootMark mark) const noexcept;

private:
    // Steady-clock ticks; 0: not yet.
    std::array<std::atomic<std::int64_t>, boot_mark_count> first_{};
};

}  // namespace ktstr::vmm::devices

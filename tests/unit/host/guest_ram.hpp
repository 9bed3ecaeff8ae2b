// Test guest RAM: 8-byte aligned host memory standing in for a VMM
// mapping, so the ring's header words are accessed atomically as they are
// in a real guest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/guest_memory.hpp"

namespace ktstr::host::test {

class GuestRam {
public:
    GuestRam(std::uint64_t guest_phys, std::size_t bytes) : gpa_(guest_phys), words_((bytes + 7) / 8), size_(bytes) {}

    std::uint8_t* data() noexcept { return reinterpret_cast<std::uint8_t*>(words_.data()); }
    std::size_t size() const noexcept { return size_; }
    std::uint64_t gpa() const noexcept { return gpa_; }
    mutable_byte_view bytes() noexcept { return {data(), size_}; }
    GuestMemoryRegion region() noexcept { return {gpa_, {data(), size_}}; }
    GuestMemory memory() { return GuestMemory({region()}); }

private:
    std::uint64_t gpa_;
    std::vector<std::uint64_t> words_;
    std::size_t size_;
};

}  // namespace ktstr::host::test

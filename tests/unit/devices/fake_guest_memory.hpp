// Guest RAM for device tests: a vector the devices see at guest-physical
// `base`, with a bump allocator for rings and buffers.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "ktstr/common/guest_memory.hpp"
#include "ktstr/common/bytes.hpp"

namespace ktstr::vmm::devices::test {

class FakeGuestMemory {
public:
    static constexpr std::uint64_t base = 0x1000'0000;

    explicit FakeGuestMemory(std::size_t size = 4 << 20) : ram_(size), view_({{base, mutable_byte_view(ram_)}}) {}
    FakeGuestMemory(const FakeGuestMemory&) = delete;
    FakeGuestMemory& operator=(const FakeGuestMemory&) = delete;

    const GuestMemory& view() const noexcept { return view_; }
    std::uint64_t end() const noexcept { return base + ram_.size(); }

    std::uint64_t alloc(std::size_t bytes, std::size_t align = 16) {
        next_ = (next_ + align - 1) / align * align;
        if (next_ + bytes > end())
            throw std::length_error("fake guest memory exhausted");
        const std::uint64_t at = next_;
        next_ += bytes;
        return at;
    }

    std::uint8_t* at(std::uint64_t gpa) { return ram_.data() + (gpa - base); }

    template <typename T>
    void put(std::uint64_t gpa, T v) {
        store_le<T>(at(gpa), v);
    }
    template <typename T>
    T get(std::uint64_t gpa) {
        return load_le<T>(at(gpa));
    }
    void write(std::uint64_t gpa, byte_view bytes) { std::copy(bytes.begin(), bytes.end(), at(gpa)); }
    byte_buffer read(std::uint64_t gpa, std::size_t n) { return byte_buffer(at(gpa), at(gpa) + n); }

private:
    std::vector<std::uint8_t> ram_;
    GuestMemory view_;
    std::uint64_t next_ = base;
};

}  // namespace ktstr::vmm::devices::test

// Byte views and little-endian field access shared by every layer.
//
// The wire format is little-endian regardless of the host; these helpers
// are the only place that turns bytes into integers and back.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace ktstr {

using byte_view = std::span<const std::uint8_t>;
using mutable_byte_view = std::span<std::uint8_t>;
using byte_buffer = std::vector<std::uint8_t>;

template <typename T>
constexpr T byteswap_if_big_endian(T v) noexcept {
    if constexpr (std::endian::native == std::endian::big) {
        T out{};
        for (std::size_t i = 0; i < sizeof(T); ++i)
            out = static_cast<T>((out << 8) | ((v >> (8 * i)) & 0xff));
        return out;
    } else {
        return v;
    }
}

// Reads a little-endian integer from the first sizeof(T) bytes of `at`.
// Precondition: at.size() >= sizeof(T).
template <typename T>
T load_le(const std::uint8_t* at) noexcept {
    T v;
    std::memcpy(&v, at, sizeof(T));
    return byteswap_if_big_endian(v);
}

template <typename T>
void store_le(std::uint8_t* at, T v) noexcept {
    v = byteswap_if_big_endian(v);
    std::memcpy(at, &v, sizeof(T));
}

inline byte_view as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace ktstr

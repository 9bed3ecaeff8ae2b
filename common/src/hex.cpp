#include "ktstr/common/hex.hpp"

namespace ktstr {
namespace {

constexpr char digits[] = "0123456789abcdef";

}  // namespace

std::string to_hex(byte_view bytes) {
    std::string s;
    s.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        s.push_back(digits[b >> 4]);
        s.push_back(digits[b & 0xf]);
    }
    return s;
}

std::string to_hex(std::uint64_t value) {
    std::string s = "0x";
    bool started = false;
    for (int shift = 60; shift >= 0; shift -= 4) {
        const auto d = static_cast<unsigned>((value >> shift) & 0xf);
        if (d != 0 || started || shift == 0) {
            s.push_back(digits[d]);
            started = true;
        }
    }
    return s;
}

}  // namespace ktstr

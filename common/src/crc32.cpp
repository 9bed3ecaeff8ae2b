// CRC-32 dispatch, the Boost reference, and the portable slicing-by-8.
#include "ktstr/common/crc32.hpp"

#include <array>
#include <atomic>

#include <boost/crc.hpp>

namespace ktstr {
namespace crc32_impl {
namespace {

// tables[k][b]: CRC of byte b followed by k zero bytes (reflected, poly
// 0xEDB88320), so eight bytes fold in with eight lookups.
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t b = 0; b < 256; ++b) {
        std::uint32_t c = b;
        for (int i = 0; i < 8; ++i)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        t[0][b] = c;
    }
    for (std::size_t k = 1; k < 8; ++k)
        for (std::size_t b = 0; b < 256; ++b)
            t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    return t;
}
constexpr auto tables = make_tables();

}  // namespace

std::uint32_t boost_reference(std::uint32_t crc, byte_view data) noexcept {
    // boost::crc_32_type takes its interim remainder unreflected (bit i <->
    // x^i) and its checksum() is that remainder reflected, XOR 0xFFFFFFFF:
    // so it resumes from the reflection of ~crc.
    std::uint32_t rem = 0;
    for (int i = 0; i < 32; ++i)
        rem |= ((~crc >> i) & 1u) << (31 - i);
    boost::crc_32_type c(rem);
    c.process_bytes(data.data(), data.size());
    return c.checksum();
}

std::uint32_t slicing_by_8(std::uint32_t crc, byte_view data) noexcept {
    std::uint32_t c = ~crc;
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    while (n >= 8) {
        std::uint32_t lo = load_le<std::uint32_t>(p) ^ c;
        std::uint32_t hi = load_le<std::uint32_t>(p + 4);
        c = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^ tables[5][(lo >> 16) & 0xff] ^
            tables[4][lo >> 24] ^ tables[3][hi & 0xff] ^ tables[2][(hi >> 8) & 0xff] ^
            tables[1][(hi >> 16) & 0xff] ^ tables[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xff];
    return ~c;
}

namespace {

using crc_fn = std::uint32_t (*)(std::uint32_t, byte_view) noexcept;

struct Choice {
    crc_fn fn;
    std::string_view name;
};

Choice choose() noexcept {
    if (has_vpclmul())
        return {vpclmul, "vpclmul"};
    if (has_vpclmul256())
        return {vpclmul256, "vpclmul256"};
    if (has_pclmul())
        return {pclmul, "pclmul"};
    return {slicing_by_8, "slicing-by-8"};
}

std::uint32_t resolve(std::uint32_t crc, byte_view data) noexcept;

// The implementation crc32() calls. It starts as resolve(), which makes
// the choice on first use and stores it, so every later call is one load
// and an indirect jump. Constant-initialised, hence usable from any static
// initialiser. Threads racing on first use all compute the same choice
// (it depends only on the CPU), so a relaxed store is enough.
std::atomic<crc_fn> active{resolve};

std::uint32_t resolve(std::uint32_t crc, byte_view data) noexcept {
    const crc_fn fn = choose().fn;
    active.store(fn, std::memory_order_relaxed);
    return fn(crc, data);
}

}  // namespace

std::string_view active_name() noexcept { return choose().name; }

}  // namespace crc32_impl

std::uint32_t crc32_update(std::uint32_t crc, byte_view data) noexcept {
    return crc32_impl::active.load(std::memory_order_relaxed)(crc, data);
}

std::uint32_t crc32(byte_view data) noexcept { return crc32_update(0, data); }

}  // namespace ktstr

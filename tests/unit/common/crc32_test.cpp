#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ktstr/common/crc32.hpp"

using namespace ktstr;

namespace {

using crc_fn = std::uint32_t (*)(std::uint32_t, byte_view) noexcept;

struct Impl {
    const char* name;
    crc_fn fn;
};

std::uint32_t dispatched(std::uint32_t crc, byte_view data) noexcept { return crc32_update(crc, data); }

// Every implementation this CPU can run. The carry-less-multiply kernels
// would fault elsewhere, so they are listed only where the CPU has them.
std::vector<Impl> implementations() {
    std::vector<Impl> v = {{"boost_reference", crc32_impl::boost_reference},
                           {"slicing_by_8", crc32_impl::slicing_by_8},
                           {"dispatched", dispatched}};
    if (crc32_impl::has_pclmul())
        v.push_back({"pclmul", crc32_impl::pclmul});
    if (crc32_impl::has_vpclmul())
        v.push_back({"vpclmul", crc32_impl::vpclmul});
    if (crc32_impl::has_vpclmul256())
        v.push_back({"vpclmul256", crc32_impl::vpclmul256});
    return v;
}

// zlib's crc32 is the oracle; it takes at most UINT_MAX bytes per call.
std::uint32_t zlib_crc(std::uint32_t crc, byte_view data) {
    uLong c = crc;
    std::size_t off = 0;
    while (off < data.size()) {
        const std::size_t n = std::min<std::size_t>(data.size() - off, 1u << 30);
        c = ::crc32(c, data.data() + off, static_cast<uInt>(n));
        off += n;
    }
    return static_cast<std::uint32_t>(c);
}

byte_buffer random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    byte_buffer b(n);
    for (auto& x : b)
        x = static_cast<std::uint8_t>(rng() >> 24);
    return b;
}

// First byte of `buf` at a 64-byte boundary, so offsets 0..63 from it are
// every alignment a vector load can see.
const std::uint8_t* aligned64(const byte_buffer& buf) {
    const auto addr = reinterpret_cast<std::uintptr_t>(buf.data());
    return buf.data() + ((64 - addr % 64) % 64);
}

}  // namespace

TEST_CASE("CRC-32 known vectors", "[crc32]") {
    const char* unavailable = "no (not on this CPU or not built for it)";
    WARN("CRC-32 implementations exercised: pclmul " << (crc32_impl::has_pclmul() ? "yes" : unavailable)
                                                    << ", vpclmul " << (crc32_impl::has_vpclmul() ? "yes" : unavailable)
                                                    << ", vpclmul256 " << (crc32_impl::has_vpclmul256() ? "yes" : unavailable)
                                                    << "; crc32() dispatches to " << crc32_impl::active_name());
    CHECK(crc32(as_bytes("123456789")) == 0xCBF43926u);
    CHECK(crc32({}) == 0u);
    CHECK(crc32(as_bytes("a")) == 0xE8B7BE43u);
    CHECK(crc32(as_bytes("The quick brown fox jumps over the lazy dog")) == 0x414FA339u);
    for (const auto& impl : implementations()) {
        INFO(impl.name);
        CHECK(impl.fn(0, as_bytes("123456789")) == 0xCBF43926u);
        CHECK(impl.fn(0, {}) == 0u);
        CHECK(impl.fn(0x12345678u, {}) == 0x12345678u);
        CHECK(impl.fn(0, as_bytes("a")) == 0xE8B7BE43u);
    }
}

TEST_CASE("CRC-32 of 1 MiB of a byte pattern matches zlib", "[crc32]") {
    byte_buffer buf(1u << 20);
    for (std::size_t i = 0; i < buf.size(); ++i)
        buf[i] = static_cast<std::uint8_t>((i * 31 + (i >> 8)) & 0xff);
    const std::uint32_t want = zlib_crc(0, buf);
    CHECK(crc32(buf) == want);
    for (const auto& impl : implementations()) {
        INFO(impl.name);
        CHECK(impl.fn(0, buf) == want);
    }
    // All zeros and all ones stress the folding with degenerate data.
    for (std::uint8_t fill : {std::uint8_t{0}, std::uint8_t{0xff}}) {
        std::fill(buf.begin(), buf.end(), fill);
        const std::uint32_t w = zlib_crc(0, buf);
        for (const auto& impl : implementations()) {
            INFO(impl.name << " fill " << int{fill});
            CHECK(impl.fn(0, buf) == w);
        }
    }
}

TEST_CASE("every implementation agrees with zlib on every length 0..1024 at every alignment 0..63", "[crc32]") {
    const byte_buffer buf = random_bytes(1024 + 128, 1);
    const std::uint8_t* base = aligned64(buf);
    std::mt19937 rng(2);
    for (const auto& impl : implementations()) {
        std::size_t mismatches = 0;
        std::string first;
        for (std::size_t off = 0; off < 64; ++off)
            for (std::size_t len = 0; len <= 1024; ++len) {
                const byte_view v(base + off, len);
                // Half the runs continue a non-zero CRC, which the kernels
                // must fold into the first block.
                const std::uint32_t start = (len & 1) ? static_cast<std::uint32_t>(rng()) : 0u;
                const std::uint32_t want = zlib_crc(start, v);
                const std::uint32_t got = impl.fn(start, v);
                if (got != want && mismatches++ == 0)
                    first = "offset " + std::to_string(off) + " length " + std::to_string(len);
            }
        INFO(impl.name << ": first mismatch at " << first);
        CHECK(mismatches == 0);
    }
}

TEST_CASE("every implementation agrees with zlib and Boost on large random buffers", "[crc32]") {
    std::mt19937 rng(3);
    const std::size_t sizes[] = {4096, 65536 + 17, (1u << 20) + 13, (3u << 20) + 255, 1u << 22};
    for (std::size_t size : sizes) {
        const byte_buffer buf = random_bytes(size, static_cast<std::uint32_t>(size));
        const std::uint32_t start = static_cast<std::uint32_t>(rng());
        const std::uint32_t want = zlib_crc(start, buf);
        REQUIRE(crc32_impl::boost_reference(start, buf) == want);
        for (const auto& impl : implementations()) {
            INFO(impl.name << " size " << size);
            CHECK(impl.fn(start, buf) == want);
            CHECK(impl.fn(0, buf) == zlib_crc(0, buf));
        }
    }
}

TEST_CASE("crc32_update chains across random split points", "[crc32]") {
    std::mt19937 rng(4);
    for (int round = 0; round < 50; ++round) {
        const std::size_t size = rng() % 20000;
        const byte_buffer buf = random_bytes(size, static_cast<std::uint32_t>(round));
        const std::uint32_t whole = zlib_crc(0, buf);
        REQUIRE(crc32(buf) == whole);
        REQUIRE(crc32_update(0, buf) == whole);

        // Cut into 1..8 pieces at random points (pieces may be empty).
        std::vector<std::size_t> cuts = {0, size};
        const std::size_t pieces = 1 + rng() % 8;
        for (std::size_t i = 1; i < pieces; ++i)
            cuts.push_back(size ? rng() % (size + 1) : 0);
        std::sort(cuts.begin(), cuts.end());
        for (const auto& impl : implementations()) {
            std::uint32_t c = 0;
            for (std::size_t i = 0; i + 1 < cuts.size(); ++i)
                c = impl.fn(c, byte_view(buf.data() + cuts[i], cuts[i + 1] - cuts[i]));
            INFO(impl.name << " size " << size << " pieces " << pieces);
            CHECK(c == whole);
        }
        const std::size_t cut = size ? rng() % (size + 1) : 0;
        CHECK(crc32_update(crc32(byte_view(buf.data(), cut)), byte_view(buf.data() + cut, size - cut)) == whole);
    }
}

TEST_CASE("crc32() dispatches to the fastest implementation the CPU has", "[crc32]") {
    const std::string_view want = crc32_impl::has_vpclmul()      ? "vpclmul"
                                  : crc32_impl::has_vpclmul256() ? "vpclmul256"
                                  : crc32_impl::has_pclmul()     ? "pclmul"
                                                                 : "slicing-by-8";
    CHECK(crc32_impl::active_name() == want);
    // The VPCLMULQDQ check includes everything PCLMULQDQ needs.
    if (crc32_impl::has_vpclmul())
        CHECK(crc32_impl::has_pclmul());
    if (crc32_impl::has_vpclmul256())
        CHECK(crc32_impl::has_pclmul());
}

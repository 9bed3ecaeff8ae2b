#include <catch2/catch.hpp>

#include <random>

#include "ktstr/common/crc32.hpp"

using namespace ktstr;

TEST_CASE("CRC-32 known vectors", "[crc32]") {
    CHECK(crc32(as_bytes("123456789")) == 0xCBF43926u);
    CHECK(crc32({}) == 0u);
    CHECK(crc32(as_bytes("a")) == 0xE8B7BE43u);
}

TEST_CASE("slicing-by-8 agrees with Boost.CRC on every length and alignment", "[crc32]") {
    std::mt19937 rng(1);
    std::vector<std::uint8_t> buf(1024 + 64);
    for (auto& b : buf)
        b = static_cast<std::uint8_t>(rng());
    for (std::size_t off = 0; off < 64; off += 7)
        for (std::size_t len = 0; len <= 1024; ++len) {
            byte_view v(buf.data() + off, len);
            REQUIRE(crc32_impl::slicing_by_8(0, v) == crc32_impl::boost_reference(0, v));
            REQUIRE(crc32(v) == crc32_impl::boost_reference(0, v));
        }
}

TEST_CASE("crc32_update chains", "[crc32]") {
    std::string s = "The quick brown fox jumps over the lazy dog";
    for (std::size_t cut = 0; cut <= s.size(); ++cut)
        REQUIRE(crc32_update(crc32(as_bytes(s.substr(0, cut))), as_bytes(s.substr(cut))) == crc32(as_bytes(s)));
}

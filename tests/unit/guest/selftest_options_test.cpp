#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "selftest_options.hpp"
#include "stdout_pattern.hpp"

using namespace ktstr::selftest;

TEST_CASE("selftest without step flags runs the --all steps", "[selftest]") {
    auto o = parse_selftest_options({});
    CHECK(o.senders);
    CHECK(o.shm);
    CHECK(o.shm_burst);
    CHECK(o.signal);
    CHECK(o.snapshot);
    CHECK_FALSE(o.garbage);
    CHECK_FALSE(o.stdout_bytes);
    CHECK(o.exit_code == 0);
}

TEST_CASE("selftest flags select steps and values", "[selftest]") {
    auto o = parse_selftest_options({"--stdout-bytes", "64M", "--exit-code", "7", "--snapshot-timeout", "250"});
    CHECK(o.stdout_bytes == 64u << 20);
    CHECK_FALSE(o.senders);
    CHECK(o.exit_code == 7);
    CHECK(o.snapshot_timeout == std::chrono::milliseconds(250));
    auto g = parse_selftest_options({"--garbage", "--sched-exit", "-3", "--wait-signal", "10"});
    CHECK(g.garbage);
    CHECK(g.sched_exit == -3);
    CHECK(g.wait_signal == std::chrono::milliseconds(10));
    CHECK(parse_size("1K", "--x") == 1024);
    CHECK(parse_size("3", "--x") == 3);
    CHECK(parse_size("16G", "--x") == 16ull << 30);
    auto b = parse_selftest_options({"--bulk-bytes", "2M"});
    CHECK(b.bulk_bytes == 2u << 20);
    CHECK_FALSE(b.stdout_bytes);
    CHECK_FALSE(b.senders);
}

TEST_CASE("bad selftest arguments are rejected with a reason", "[selftest]") {
    CHECK_THROWS_WITH(parse_selftest_options({"--bogus"}), Catch::Contains("unknown argument"));
    CHECK_THROWS_WITH(parse_selftest_options({"--stdout-bytes"}), Catch::Contains("needs a value"));
    CHECK_THROWS_WITH(parse_selftest_options({"--stdout-bytes", "17G"}), Catch::Contains("16 GiB"));
    CHECK_THROWS_WITH(parse_selftest_options({"--stdout-bytes", "x"}), Catch::Contains("not a decimal"));
    CHECK_THROWS_WITH(parse_selftest_options({"--bulk-bytes", "17G"}), Catch::Contains("--bulk-bytes: '17G'"));
    CHECK_THROWS_WITH(parse_selftest_options({"--exit-code", "256"}), Catch::Contains("0..255"));
    CHECK_THROWS_WITH(parse_selftest_options({"--sched-exit", "9999999999"}), Catch::Contains("32-bit"));
}

TEST_CASE("the stdout pattern is printable lines of 64 bytes", "[selftest]") {
    CHECK(pattern_byte(0) == 'a');
    CHECK(pattern_byte(25) == 'z');
    CHECK(pattern_byte(26) == 'a');
    CHECK(pattern_byte(63) == '\n');
    CHECK(pattern_byte(64) == 'm');  // 64 % 26 == 12
    std::array<char, 10> buf{};
    fill_pattern(60, buf);
    CHECK(std::string(buf.begin(), buf.end()) == "ijk\nmnopqr");
}

TEST_CASE("pattern pieces equal the generated pattern at any offset", "[selftest]") {
    const PatternPieces pieces(1000);
    std::vector<char> expected(1000);
    for (std::uint64_t offset : {0ull, 1ull, 831ull, 832ull, 833ull, 65520ull * 7, (64ull << 20) - 5}) {
        for (std::size_t n : {std::size_t{1}, std::size_t{999}, std::size_t{1000}}) {
            fill_pattern(offset, std::span<char>(expected.data(), n));
            const auto got = pieces.at(offset, n);
            REQUIRE(got.size() == n);
            CHECK(std::equal(got.begin(), got.end(), expected.begin()));
        }
    }
}

// Decompression of modules and images: our output and the command-line
// tools' output, bounded, and corrupt input refused.
#include <catch2/catch.hpp>

#include <fstream>

#include <fmt/core.h>

#include "initramfs/compressed_file_writer.hpp"
#include "initramfs/compression.hpp"
#include "ktstr/test/file_contents.hpp"
#include "ktstr/test/shell_command.hpp"
#include "ktstr/test/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ktstr;
using namespace ktstr::vmm::initramfs;

namespace {

using test::read_bytes;

std::string sample() {
    std::string s;
    for (std::uint64_t i = 0; i < 300000; ++i)  // 64-bit: i * 7919 passes INT_MAX
        s += static_cast<char>((i * 7919) % 251);
    return s;
}

}  // namespace

TEST_CASE("names and magic numbers", "[compression]") {
    CHECK(compression_from_name("gzip") == Compression::gzip);
    CHECK(compression_from_name("zst") == Compression::zstd);
    CHECK_FALSE(compression_from_name("lz4"));
    CHECK(compression_of_suffix("kvm.ko.xz") == Compression::xz);
    CHECK(compression_of_suffix("kvm.ko") == Compression::none);
    const byte_buffer xz{0xfd, '7', 'z', 'X', 'Z', 0};
    CHECK(compression_of(xz) == Compression::xz);
    CHECK(compression_of(byte_buffer{0x28, 0xb5, 0x2f, 0xfd}) == Compression::zstd);
    CHECK(compression_of(byte_buffer{0x1f}) == Compression::none);
}

TEST_CASE("what the tools compress decompresses to the original", "[compression]") {
    test::TempDir d{"initramfs"};
    const auto plain = d.write("plain", sample());
    // The kernel's module compression flags: xz with CRC32 checks, zstd, gzip.
    REQUIRE(test::shell(fmt::format("xz -C crc32 -k '{}'", plain.string())).status == 0);
    REQUIRE(test::shell(fmt::format("zstd -q -k '{}'", plain.string())).status == 0);
    REQUIRE(test::shell(fmt::format("gzip -k '{}'", plain.string())).status == 0);
    for (const char* suffix : {".xz", ".zst", ".gz"}) {
        INFO(suffix);
        const auto data = read_bytes(plain.string() + suffix);
        const auto c = compression_of(data);
        CHECK(c == compression_of_suffix(suffix));
        const auto out = decompress(data, c, 1 << 20);
        CHECK(std::string(out.begin(), out.end()) == sample());
        // Bounded: one byte short of the output is an error, not a
        // truncated result.
        CHECK_THROWS_WITH(decompress(data, c, 300000 - 1), Catch::Contains("more than"));
        // Truncated and corrupted input.
        CHECK_THROWS_AS(decompress(byte_view(data.data(), data.size() / 2), c, 1 << 20), CompressionError);
        auto bad = data;
        for (std::size_t i = 20; i < bad.size(); i += 97)
            bad[i] ^= 0x5a;
        CHECK_THROWS_AS(decompress(bad, c, 1 << 20), CompressionError);
    }
}

TEST_CASE("the file writer's gzip and zstd streams are what gzip(1) and zstd(1) read", "[compression]") {
    test::TempDir d{"initramfs"};
    const auto s = sample();
    for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
        const auto f = d.path() / fmt::format("out.{}", compression_name(c));
        {
            CompressedFileWriter w(f, c);
            // In uneven pieces, to cross the writer's buffer boundaries.
            std::size_t at = 0;
            for (std::size_t piece = 1; at < s.size(); piece = piece * 3 + 1) {
                const auto n = std::min(piece, s.size() - at);
                w.write(byte_view(reinterpret_cast<const std::uint8_t*>(s.data() + at), n));
                at += n;
            }
            w.finish();
        }
        const char* tool = c == Compression::gzip ? "gzip -dc" : c == Compression::zstd ? "zstd -dc" : "cat";
        auto r = test::shell(fmt::format("{} '{}'", tool, f.string()));
        CHECK(r.status == 0);
        CHECK(r.out == s);
        const auto back = decompress(read_bytes(f), c, 1 << 20);
        CHECK(std::string(back.begin(), back.end()) == s);
    }
    CHECK_THROWS_AS(CompressedFileWriter(d.path() / "x", Compression::xz), std::invalid_argument);
}

// parse_image: the arm64 Image header fields, and the files it refuses.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "arch/aarch64/image.hpp"

using namespace ktstr;
using namespace ktstr::vmm::aarch64;

namespace {

// An Image of `file_bytes` bytes whose header says what the arguments say.
std::vector<std::uint8_t> image(std::uint64_t text_offset, std::uint64_t image_size, std::uint64_t flags,
                                std::size_t file_bytes = 4096) {
    std::vector<std::uint8_t> f(file_bytes);
    f[0] = 'M';
    f[1] = 'Z';
    store_le<std::uint64_t>(f.data() + 0x08, text_offset);
    store_le<std::uint64_t>(f.data() + 0x10, image_size);
    store_le<std::uint64_t>(f.data() + 0x18, flags);
    store_le<std::uint32_t>(f.data() + 0x38, image_magic);
    return f;
}

std::string image_error(const std::vector<std::uint8_t>& f) {
    try {
        parse_image(f);
    } catch (const ImageError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("aarch64 image: parse_image reads a modern kernel's header", "[aarch64]") {
    // Debian's cloud-arm64 6.1: text_offset 0, flags 0xa (4 KiB pages, anywhere).
    const auto f = image(0, 0x01ab0000, 0xa, 8192);
    CHECK(is_arm64_image(f));
    const auto h = parse_image(f);
    CHECK(h.text_offset == 0);
    CHECK(h.image_size == 0x01ab0000);
    CHECK(h.flags == 0xa);
    CHECK(h.page_size == ImagePageSize::k4);
    CHECK(h.place_anywhere);
    CHECK(h.load_bytes == 8192);
}

TEST_CASE("aarch64 image: parse_image decodes the page size bits and placement", "[aarch64]") {
    CHECK(parse_image(image(0, 1 << 20, 0)).page_size == ImagePageSize::unspecified);
    CHECK(parse_image(image(0, 1 << 20, 2 << 1)).page_size == ImagePageSize::k16);
    CHECK(parse_image(image(0, 1 << 20, 3 << 1)).page_size == ImagePageSize::k64);
    CHECK_FALSE(parse_image(image(0, 1 << 20, 0)).place_anywhere);
    CHECK(parse_image(image(0x80000, 1 << 20, 0)).text_offset == 0x80000);
}

TEST_CASE("aarch64 image: parse_image refuses what it cannot boot", "[aarch64]") {
    CHECK(image_error(std::vector<std::uint8_t>(63)) == "not an arm64 Image: 63 bytes, shorter than its 64-byte header");
    auto no_magic = image(0, 1 << 20, 0);
    no_magic[0x38] = 'X';
    CHECK_FALSE(is_arm64_image(no_magic));
    CHECK(image_error(no_magic) == "not an arm64 Image: no \"ARM\\x64\" magic at offset 0x38");
    CHECK_THAT(image_error(image(0x80000, 0, 0)), Catch::Contains("older than 3.17"));
    CHECK_THAT(image_error(image(0, 1 << 20, 1)), Catch::Contains("big-endian"));
    CHECK_THAT(image_error(image(2 << 20, 1 << 20, 0)), Catch::Contains("text_offset 0x200000"));
    CHECK_THAT(image_error(image(0x100, 1 << 20, 0)), Catch::Contains("text_offset 0x100"));
    CHECK_THAT(image_error(image(0, max_image_bytes + 4096, 0)), Catch::Contains("exceeds the 256 MiB bound"));
    CHECK_THAT(image_error(image(0, 4096, 0, 8192)), Catch::Contains("larger than its image_size"));
    CHECK(parse_image(image(0, max_image_bytes, 0)).image_size == max_image_bytes);
}

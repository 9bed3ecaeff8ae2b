// arm64 kernel files: telling them from x86_64 ones, and the bootable
// Image of a package's vmlinuz (as is, or unpacked from gzip).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <vector>

#include <zlib.h>

#include "arch/aarch64/image.hpp"
#include "kernel/arm64_image_file.hpp"
#include "ktstr/test/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ktstr::vmm::kernel;
using ktstr::test::TempDir;

namespace {

std::vector<std::uint8_t> arm64_image(std::size_t bytes = 8192, std::uint64_t image_size = 1 << 20) {
    std::vector<std::uint8_t> f(bytes, 0x5a);
    ktstr::store_le<std::uint64_t>(f.data() + 0x08, 0);
    ktstr::store_le<std::uint64_t>(f.data() + 0x10, image_size);
    ktstr::store_le<std::uint64_t>(f.data() + 0x18, 0xa);
    ktstr::store_le<std::uint32_t>(f.data() + 0x38, ktstr::vmm::aarch64::image_magic);
    return f;
}

void write_file(const fs::path& p, const std::vector<std::uint8_t>& data) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                             static_cast<std::streamsize>(data.size()));
}

void write_gzip(const fs::path& p, const std::vector<std::uint8_t>& data) {
    fs::create_directories(p.parent_path());
    gzFile g = gzopen(p.c_str(), "wb1");
    REQUIRE(g);
    REQUIRE(gzwrite(g, data.data(), static_cast<unsigned>(data.size())) == static_cast<int>(data.size()));
    gzclose(g);
}

std::vector<std::uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::string release = "6.1.0-57-cloud-arm64";

}  // namespace

TEST_CASE("arm64 image file: the architecture from the file's first bytes", "[kernel]") {
    TempDir d{"kernel"};
    write_file(d.path() / "Image", arm64_image());
    write_gzip(d.path() / "Image.gz", arm64_image());
    write_file(d.path() / "bzImage", std::vector<std::uint8_t>(4096, 0));
    CHECK(kernel_file_arch(d.path() / "Image") == KernelArch::arm64);
    CHECK(kernel_file_arch(d.path() / "Image.gz") == KernelArch::arm64);
    CHECK(kernel_file_arch(d.path() / "bzImage") == KernelArch::x86_64);
    CHECK(kernel_file_arch(d.path() / "missing") == KernelArch::x86_64);
}

TEST_CASE("arm64 image file: a vmlinuz that is an Image is booted as it is", "[kernel]") {
    TempDir d{"kernel"};
    const auto boot = d.path() / "boot";
    write_file(boot / ("vmlinuz-" + release), arm64_image());
    CHECK(bootable_arm64_image(boot, release) == boot / ("vmlinuz-" + release));
    CHECK_FALSE(fs::exists(boot / ("Image-" + release)));
}

TEST_CASE("arm64 image file: a gzip'd vmlinuz is unpacked once into Image-R", "[kernel]") {
    TempDir d{"kernel"};
    const auto boot = d.path() / "boot";
    const auto image = arm64_image(100000);
    write_gzip(boot / ("vmlinuz-" + release), image);
    const auto out = bootable_arm64_image(boot, release);
    CHECK(out == boot / ("Image-" + release));
    CHECK(read_file(out) == image);
    // Nothing else left behind (the temporary file was renamed).
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(boot))
        ++files;
    CHECK(files == 2);
}

TEST_CASE("arm64 image file: refuses what is no Image", "[kernel]") {
    TempDir d{"kernel"};
    const auto boot = d.path() / "boot";
    write_file(boot / ("vmlinuz-" + release), std::vector<std::uint8_t>(4096, 0));
    CHECK_THROWS_WITH(bootable_arm64_image(boot, release), Catch::Contains("neither an arm64 Image nor gzip data"));
    write_gzip(boot / ("vmlinuz-" + release), std::vector<std::uint8_t>(4096, 0));
    CHECK_THROWS_WITH(bootable_arm64_image(boot, release), Catch::Contains("no \"ARM\\x64\" magic"));
    auto truncated = read_file(boot / ("vmlinuz-" + release));
    truncated.resize(truncated.size() / 2);
    write_file(boot / ("vmlinuz-" + release), truncated);
    CHECK_THROWS_WITH(bootable_arm64_image(boot, release), Catch::Contains("not valid gzip data"));
    CHECK_FALSE(fs::exists(boot / ("Image-" + release)));
}

TEST_CASE("arm64 image file: a gzip stream unpacking past the bound is refused", "[kernel]") {
    TempDir d{"kernel"};
    const auto boot = d.path() / "boot";
    // The header (which claims a size within the bound), then zeros to one
    // byte past it, written a MiB at a time.
    fs::create_directories(boot);
    gzFile g = gzopen((boot / ("vmlinuz-" + release)).c_str(), "wb1");
    REQUIRE(g);
    const auto header = arm64_image(4096, ktstr::vmm::aarch64::max_image_bytes);
    gzwrite(g, header.data(), static_cast<unsigned>(header.size()));
    const std::vector<std::uint8_t> zeros(1 << 20);
    for (std::uint64_t left = ktstr::vmm::aarch64::max_image_bytes + 1 - header.size(); left > 0;) {
        const auto n = std::min<std::uint64_t>(left, zeros.size());
        gzwrite(g, zeros.data(), static_cast<unsigned>(n));
        left -= n;
    }
    gzclose(g);
    CHECK_THROWS_WITH(bootable_arm64_image(boot, release), Catch::Contains("unpacks to more than 256 MiB"));
    CHECK_FALSE(fs::exists(boot / ("Image-" + release)));
}

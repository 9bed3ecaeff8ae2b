// The vmlinux inside a bzImage, unpacked and cached for the PVH entry, and
// the choice of entry: synthetic kernels, then Debian's when it is here.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <fmt/core.h>

#include "arch/x86_64/vmlinux.hpp"
#include "initramfs/compressed_file_writer.hpp"
#include "kernel_image/kernel_entry.hpp"
#include "kernel_image/vmlinux_compact.hpp"
#include "kernel_image/vmlinux_extract.hpp"
#include "ktstr/test/file_contents.hpp"
#include "ktstr/test/temp_dir.hpp"
#include "synthetic_bzimage.hpp"
#include "synthetic_vmlinux.hpp"

namespace fs = std::filesystem;
using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::kernel_image;
namespace x86 = ktstr::vmm::x86_64;
namespace sh = ktstr::vmm::x86_64::setup_header;

namespace {

struct CacheHere {
    explicit CacheHere(const fs::path& dir) { ::setenv("XDG_CACHE_HOME", dir.c_str(), 1); }
    ~CacheHere() { ::unsetenv("XDG_CACHE_HOME"); }
    CacheHere(const CacheHere&) = delete;
    CacheHere& operator=(const CacheHere&) = delete;
};

byte_buffer read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return byte_buffer(std::istreambuf_iterator<char>(in), {});
}

void write_all(const fs::path& p, byte_view b) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

byte_buffer zstd_of(const fs::path& dir, byte_view plain,
                    initramfs::Compression c = initramfs::Compression::zstd) {
    const fs::path z = dir / "payload.compressed";
    initramfs::CompressedFileWriter w(z, c);
    w.write(plain);
    w.finish();
    return read_all(z);
}

// A bzImage whose payload is `stream` followed by the announced size, as
// the kernel's size_append writes it.
// Without `announced` (gzip), the stream alone: its trailer is the size.
byte_buffer bzimage_with_payload(byte_view stream, std::optional<std::uint32_t> announced) {
    const std::size_t setup = 5 * 512, payload_at = 0x400;
    const std::size_t extra = announced ? 4 : 0;
    const std::size_t kernel_bytes = (payload_at + stream.size() + extra + 15) & ~std::size_t{15};
    byte_buffer f = x86::test::synthetic_bzimage(kernel_bytes);
    std::copy(stream.begin(), stream.end(), f.begin() + static_cast<std::ptrdiff_t>(setup + payload_at));
    if (announced)
        store_le(f.data() + setup + payload_at + stream.size(), *announced);
    store_le(f.data() + sh::payload_offset, static_cast<std::uint32_t>(payload_at));
    store_le(f.data() + sh::payload_length, static_cast<std::uint32_t>(stream.size() + extra));
    return f;
}

}  // namespace

TEST_CASE("a bzImage's zstd payload unpacks to its vmlinux", "[kernel_image]") {
    test::TempDir d{"kernel-image"};
    const byte_buffer vmlinux = x86::test::synthetic_vmlinux({.trailing = 64});
    const byte_buffer z = zstd_of(d.path(), vmlinux);
    const auto k = x86::BzImage::parse(bzimage_with_payload(z, static_cast<std::uint32_t>(vmlinux.size())));
    CHECK(extract_vmlinux(k) == vmlinux);

    SECTION("a gzip payload has no size appended: gzip's own trailer says it") {
        const byte_buffer gz = zstd_of(d.path(), vmlinux, initramfs::Compression::gzip);
        const auto kg = x86::BzImage::parse(bzimage_with_payload(gz, std::nullopt));
        CHECK(extract_vmlinux(kg) == vmlinux);
    }
    SECTION("a size differing from the announced one is refused") {
        const auto wrong = x86::BzImage::parse(bzimage_with_payload(z, static_cast<std::uint32_t>(vmlinux.size() + 1)));
        CHECK_THROWS_WITH(extract_vmlinux(wrong), Catch::Contains("announces"));
    }
    SECTION("a corrupt stream is refused") {
        byte_buffer bad = z;
        for (std::size_t i = 8; i < bad.size(); ++i)
            bad[i] ^= 0x5a;
        const auto k2 = x86::BzImage::parse(bzimage_with_payload(bad, static_cast<std::uint32_t>(vmlinux.size())));
        CHECK_THROWS_AS(extract_vmlinux(k2), VmlinuxExtractError);
    }
    SECTION("a payload that is not compressed is refused") {
        const byte_view plain = as_bytes("a payload that is not a compressed stream at all, just text");
        const auto k3 = x86::BzImage::parse(bzimage_with_payload(plain, 100));
        CHECK_THROWS_AS(extract_vmlinux(k3), VmlinuxExtractError);
    }
    SECTION("a stream that unpacks to more than it announces is refused") {
        const auto k4 = x86::BzImage::parse(bzimage_with_payload(z, static_cast<std::uint32_t>(vmlinux.size() - 10)));
        CHECK_THROWS_WITH(extract_vmlinux(k4), Catch::Contains("more than"));
    }
    SECTION("a payload range outside the file gives no payload") {
        byte_buffer f = bzimage_with_payload(z, static_cast<std::uint32_t>(vmlinux.size()));
        store_le(f.data() + sh::payload_length, std::uint32_t{0xffff'0000});
        CHECK_THROWS_WITH(extract_vmlinux(x86::BzImage::parse(f)), Catch::Contains("no compressed payload"));
    }
}

TEST_CASE("the kernel entry: PVH through the cached vmlinux, the bzImage otherwise", "[kernel_image]") {
    test::TempDir d{"kernel-image"};
    CacheHere cache{d.path() / "cache"};
    const byte_buffer vmlinux = x86::test::synthetic_vmlinux();
    const fs::path bz = d.path() / "vmlinuz";
    write_all(bz, bzimage_with_payload(zstd_of(d.path(), vmlinux), static_cast<std::uint32_t>(vmlinux.size())));

    const KernelEntryChoice first = choose_kernel_entry(bz, KernelEntry::automatic);
    CHECK(first.entry == KernelEntry::pvh);
    CHECK(first.path.parent_path() == vmlinux_cache_dir());
    CHECK(read_all(first.path) == compact_vmlinux(x86::Vmlinux::parse(vmlinux)));
    CHECK(x86::Vmlinux::parse(read_all(first.path)).pvh_entry() == 0x100'0040);
    // Cached: a second choice is the same file, not unpacked again (its
    // time stays; a new file would replace it).
    const auto written = fs::last_write_time(first.path);
    const KernelEntryChoice second = choose_kernel_entry(bz, KernelEntry::pvh);
    CHECK(second.path == first.path);
    CHECK(fs::last_write_time(second.path) >= written);

    SECTION("bzimage is taken as asked") {
        const auto c = choose_kernel_entry(bz, KernelEntry::bzimage);
        CHECK(c.entry == KernelEntry::bzimage);
        CHECK(c.path == bz);

    }
    SECTION("a vmlinux given directly is entered through PVH, and cannot be a bzImage") {
        CHECK(choose_kernel_entry(first.path, KernelEntry::automatic).path == first.path);
        CHECK_THROWS_WITH(choose_kernel_entry(first.path, KernelEntry::bzimage), Catch::Contains("is a vmlinux"));
    }
    SECTION("a kernel without a PVH entry falls back to the bzImage, remembered") {
        const byte_buffer no_pvh = x86::test::synthetic_vmlinux({.entry_bytes = 0});
        const fs::path other = d.path() / "vmlinuz-nopvh";
        write_all(other, bzimage_with_payload(zstd_of(d.path(), no_pvh), static_cast<std::uint32_t>(no_pvh.size())));
        const auto c = choose_kernel_entry(other, KernelEntry::automatic);
        CHECK(c.entry == KernelEntry::bzimage);
        CHECK(c.path == other);
        CHECK_THAT(c.fallback_reason, Catch::Contains("no PVH entry"));
        // The reason is remembered: the same answer without unpacking.
        CHECK(choose_kernel_entry(other, KernelEntry::automatic).fallback_reason == c.fallback_reason);
        CHECK_THROWS_WITH(choose_kernel_entry(other, KernelEntry::pvh), Catch::Contains("no PVH entry"));
    }
    SECTION("a file that is not a kernel falls back, and loading it says why") {
        const fs::path junk = d.path() / "junk";
        write_all(junk, byte_buffer(8192, 0x41));
        const auto c = choose_kernel_entry(junk, KernelEntry::automatic);
        CHECK(c.entry == KernelEntry::bzimage);
        CHECK_THROWS_AS(x86::BzImage::read(c.path), x86::BzImageError);
    }
}

TEST_CASE("a compacted vmlinux loads the same bytes, without trailing zeros or what PVH does not read",
          "[kernel_image]") {
    // The second segment's file bytes end in zeros (as .bss stored in the
    // file does); the relocation table follows the ELF.
    byte_buffer file = x86::test::synthetic_vmlinux({.trailing = 4096});
    const x86::Vmlinux original = x86::Vmlinux::parse_view(file);  // its views are into `file`
    const auto& second = original.segments()[1];
    const std::size_t zeros_from = second.bytes.size() - 0x800;
    std::fill(file.begin() + (second.bytes.data() - file.data()) + static_cast<std::ptrdiff_t>(zeros_from),
              file.begin() + (second.bytes.data() - file.data()) + static_cast<std::ptrdiff_t>(second.bytes.size()), 0);
    const x86::Vmlinux before = x86::Vmlinux::parse(file);
    const byte_buffer compact = compact_vmlinux(before);
    CHECK(compact.size() < file.size() - 4096);
    const x86::Vmlinux after = x86::Vmlinux::parse(compact);
    CHECK(after.pvh_entry() == before.pvh_entry());
    CHECK(after.load_range() == before.load_range());
    REQUIRE(after.segments().size() == before.segments().size());
    for (std::size_t i = 0; i < before.segments().size(); ++i) {
        const auto& b = before.segments()[i];
        const auto& a = after.segments()[i];
        CHECK(a.address == b.address);
        CHECK(a.memory_size == b.memory_size);
        REQUIRE(a.bytes.size() <= b.bytes.size());
        CHECK(std::equal(a.bytes.begin(), a.bytes.end(), b.bytes.begin()));
        CHECK(std::all_of(b.bytes.begin() + static_cast<std::ptrdiff_t>(a.bytes.size()), b.bytes.end(),
                          [](std::uint8_t x) { return x == 0; }));
    }
    CHECK(after.segments()[1].bytes.size() <= zeros_from);
}

TEST_CASE("names of the kernel entries", "[kernel_image]") {
    CHECK(kernel_entry_from_name("auto") == KernelEntry::automatic);
    CHECK(kernel_entry_from_name("pvh") == KernelEntry::pvh);
    CHECK(kernel_entry_from_name("bzimage") == KernelEntry::bzimage);
    CHECK_FALSE(kernel_entry_from_name("PVH"));
    for (const auto e : {KernelEntry::automatic, KernelEntry::pvh, KernelEntry::bzimage})
        CHECK(kernel_entry_from_name(kernel_entry_name(e)) == e);
}


// The vmlinux ELF parser and the PVH start info, on synthetic kernels.
#include <catch2/catch.hpp>

#include <cstring>

#include "arch/x86_64/pvh_start_info.hpp"
#include "arch/x86_64/vmlinux.hpp"
#include "synthetic_vmlinux.hpp"

using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::x86_64;
using test::SyntheticVmlinux;
using test::synthetic_vmlinux;

TEST_CASE("a vmlinux gives its segments by physical address and its PVH entry") {
    SyntheticVmlinux spec;
    spec.trailing = 100;  // the relocation table after the ELF is ignored
    const byte_buffer file = synthetic_vmlinux(spec);
    const Vmlinux k = Vmlinux::parse(file);
    REQUIRE(k.segments().size() == 2);
    CHECK(k.segments()[0].address == 0x100'0000);
    CHECK(k.segments()[0].bytes.size() == 0x3000);
    CHECK(k.segments()[0].memory_size == 0x5000);
    CHECK(k.segments()[1].address == 0x100'5000);
    CHECK(k.pvh_entry() == 0x100'0040);
    CHECK(k.load_range() == GuestRange{0x100'0000, 0x6000});
    // The views are the file's own bytes, and survive a move.
    const std::uint8_t first = k.segments()[0].bytes[1];
    Vmlinux moved = std::move(const_cast<Vmlinux&>(k));
    CHECK(moved.segments()[0].bytes[1] == first);
    CHECK(moved.file().size() == file.size());
}

TEST_CASE("a vmlinux's entry note may be 4 bytes") {
    SyntheticVmlinux spec;
    spec.entry_bytes = 4;
    CHECK(Vmlinux::parse(synthetic_vmlinux(spec)).pvh_entry() == 0x100'0040);
}

TEST_CASE("a vmlinux without the PVH note, or not an x86_64 executable, is refused") {
    SyntheticVmlinux spec;
    spec.entry_bytes = 0;
    CHECK_THROWS_WITH(Vmlinux::parse(synthetic_vmlinux(spec)), Catch::Contains("no PVH entry"));

    byte_buffer f = synthetic_vmlinux();
    f[18] = 0xb7;  // EM_AARCH64
    CHECK_THROWS_WITH(Vmlinux::parse(f), Catch::Contains("not an x86_64 executable"));
    f = synthetic_vmlinux();
    f[4] = 1;  // ELFCLASS32
    CHECK_THROWS_WITH(Vmlinux::parse(f), Catch::Contains("64-bit"));
    CHECK_THROWS_WITH(Vmlinux::parse(byte_buffer{'M', 'Z'}), Catch::Contains("no ELF header"));
    CHECK_FALSE(looks_like_elf(byte_buffer{'M', 'Z', 0, 0}));
}

TEST_CASE("a vmlinux's lengths and addresses are bounded") {
    byte_buffer f = synthetic_vmlinux();
    SECTION("truncated inside a segment") {
        f.resize(f.size() - 1);
        CHECK_THROWS_WITH(Vmlinux::parse(f), Catch::Contains("truncated"));
    }
    SECTION("a program header table past the end") {
        store_le(f.data() + 56, std::uint16_t{0xffff});
        CHECK_THROWS_WITH(Vmlinux::parse(f), Catch::Contains("program header table"));
    }
    SECTION("a segment offset past the end") {
        store_le(f.data() + 64 + 8, std::uint64_t{1} << 62);
        CHECK_THROWS_WITH(Vmlinux::parse(f), Catch::Contains("truncated"));
    }
    SECTION("p_memsz below p_filesz") {
        store_le(f.data() + 64 + 40, std::uint64_t{1});
        CHECK_THROWS_WITH(Vmlinux::parse(f), Catch::Contains("p_memsz"));
    }
    SECTION("a segment reaching above 4 GiB") {
        store_le(f.data() + 64 + 24, std::uint64_t{0xffff'f000});
        CHECK_THROWS_WITH(Vmlinux::parse(f), Catch::Contains("below 4 GiB"));
    }
    SECTION("overlapping segments") {
        store_le(f.data() + 64 + 56 + 24, std::uint64_t{0x100'4000});
        CHECK_THROWS_WITH(Vmlinux::parse(f), Catch::Contains("overlap"));
    }
    SECTION("a note whose sizes run past its segment") {
        const std::size_t note_at = 64 + 3 * 56;
        store_le(f.data() + note_at + 4, std::uint32_t{0xffff'fff0});
        CHECK_THROWS_WITH(Vmlinux::parse(f), Catch::Contains("truncated ELF note"));
    }
    SECTION("an entry outside the segments") {
        SyntheticVmlinux spec;
        spec.entry = 0x200'0000;
        CHECK_THROWS_WITH(Vmlinux::parse(synthetic_vmlinux(spec)), Catch::Contains("outside its segments"));
    }
    SECTION("too many segments") {
        SyntheticVmlinux spec;
        spec.segments.clear();
        for (std::uint64_t i = 0; i <= Vmlinux::max_segments; ++i)
            spec.segments.push_back({0x100'0000 + i * 0x1000, 0x10, 0x10});
        spec.entry = 0x100'0000;
        CHECK_THROWS_WITH(Vmlinux::parse(synthetic_vmlinux(spec)), Catch::Contains("more than"));
    }
}

TEST_CASE("the PVH start info carries the command line, the initrd, the RSDP and the memory map") {
    const std::vector<E820Entry> e820{{0, 0x9'fc00, E820Type::ram},
                                      {0x9'fc00, 0x6'0400, E820Type::reserved},
                                      {0x10'0000, 0xff0'0000, E820Type::ram}};
    const GuestRange initrd{0x800'0000, 0x12'3456};
    const byte_buffer b =
        build_pvh_start_info({.memory_map = e820, .cmdline_address = 0x2'0000, .initrd = initrd, .rsdp_address = 0xe'0000},
                             0x6000);
    REQUIRE(b.size() == 56 + 32 + 3 * 24);
    CHECK(load_le<std::uint32_t>(b.data()) == 0x336e'c578);
    CHECK(load_le<std::uint32_t>(b.data() + 4) == 1);  // version 1: the memory map is there
    CHECK(load_le<std::uint32_t>(b.data() + 12) == 1);  // one module
    CHECK(load_le<std::uint64_t>(b.data() + 16) == 0x6000 + 56);
    CHECK(load_le<std::uint64_t>(b.data() + 24) == 0x2'0000);
    CHECK(load_le<std::uint64_t>(b.data() + 32) == 0xe'0000);
    CHECK(load_le<std::uint64_t>(b.data() + 40) == 0x6000 + 56 + 32);
    CHECK(load_le<std::uint32_t>(b.data() + 48) == 3);
    CHECK(load_le<std::uint64_t>(b.data() + 56) == initrd.start);
    CHECK(load_le<std::uint64_t>(b.data() + 64) == initrd.size);
    const std::size_t m = 56 + 32;
    CHECK(load_le<std::uint64_t>(b.data() + m + 24) == 0x9'fc00);
    CHECK(load_le<std::uint32_t>(b.data() + m + 24 + 16) == 2);
    CHECK(load_le<std::uint64_t>(b.data() + m + 48 + 8) == 0xff0'0000);

    SECTION("without an initrd there is no module") {
        const byte_buffer n = build_pvh_start_info({.memory_map = e820}, 0x6000);
        CHECK(n.size() == 56 + 3 * 24);
        CHECK(load_le<std::uint32_t>(n.data() + 12) == 0);
        CHECK(load_le<std::uint64_t>(n.data() + 40) == 0x6000 + 56);
    }
    SECTION("a memory map too long is refused") {
        const std::vector<E820Entry> many(e820_max_entries + 1, E820Entry{});
        CHECK_THROWS(build_pvh_start_info({.memory_map = many}, 0x6000));
    }
}

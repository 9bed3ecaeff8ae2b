// plan_boot: the zero page, the writes and the boot vCPU's state, on a
// synthetic bzImage.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "arch/x86_64/boot_params.hpp"
#include "arch/x86_64/boot_plan.hpp"
#include "arch/x86_64/layout.hpp"
#include "arch/x86_64/page_tables.hpp"
#include "arch/x86_64/pvh_start_info.hpp"
#include "arch/x86_64/reset_vector.hpp"
#include "synthetic_bzimage.hpp"
#include "synthetic_vmlinux.hpp"

using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::x86_64;
using ktstr::vmm::x86_64::test::synthetic_bzimage;
namespace sh = ktstr::vmm::x86_64::setup_header;
namespace zp = ktstr::vmm::x86_64::zero_page;

namespace {

template <typename T>
T at(byte_view b, std::size_t offset) {
    REQUIRE(offset + sizeof(T) <= b.size());
    return load_le<T>(b.data() + offset);
}

MemoryMap map_for(const BzImage& k, std::uint64_t initrd_bytes, std::uint64_t memory = 256 * mib) {
    LayoutRequest r;
    r.memory_bytes = memory;
    r.initrd_bytes = initrd_bytes;
    r.initrd_addr_max = k.initrd_addr_max();
    r.kernel = k.load_range();
    return layout_x86_64(r);
}

const GuestWrite& write_named(const BootPlan& p, std::string_view what) {
    auto it = std::find_if(p.writes().begin(), p.writes().end(), [&](const GuestWrite& w) { return w.what == what; });
    REQUIRE(it != p.writes().end());
    return *it;
}

// Walks the identity tables as the MMU would (4-level, 2 MiB pages).
std::uint64_t translate(byte_view tables, std::uint64_t va) {
    auto entry = [&](std::uint64_t table, std::uint64_t index) {
        const std::uint64_t off = table - page_tables_address + index * 8;
        REQUIRE(off + 8 <= tables.size());
        return load_le<std::uint64_t>(tables.data() + off);
    };
    const std::uint64_t mask = 0x000f'ffff'ffff'f000;
    const std::uint64_t pml4e = entry(page_tables_address, (va >> 39) & 511);
    REQUIRE((pml4e & pte_present) != 0);
    const std::uint64_t pdpte = entry(pml4e & mask, (va >> 30) & 511);
    REQUIRE((pdpte & pte_present) != 0);
    REQUIRE((pdpte & pte_large) == 0);
    const std::uint64_t pde = entry(pdpte & mask, (va >> 21) & 511);
    REQUIRE((pde & pte_present) != 0);
    REQUIRE((pde & pte_large) != 0);
    return (pde & 0x000f'ffff'ffe0'0000) | (va & 0x1f'ffff);
}

}  // namespace

TEST_CASE("the zero page: header copied, loader fields, E820, RSDP", "[x86_64][boot]") {
    const BzImage k = BzImage::parse(synthetic_bzimage());
    const byte_buffer initrd(3 * mib + 5, 0x5a);
    const MemoryMap m = map_for(k, initrd.size());
    const BootPlan p = plan_boot(k, m, initrd);
    const byte_view z = p.zero_page();
    REQUIRE(z.size() == 4096);

    CHECK(at<std::uint32_t>(z, sh::header) == sh::header_magic);
    CHECK(at<std::uint16_t>(z, sh::version) == 0x020f);
    CHECK(z[zp::sentinel] == 0);
    CHECK(z[sh::type_of_loader] == 0xff);
    CHECK(at<std::uint32_t>(z, sh::code32_start) == 0x100'0000);
    CHECK(at<std::uint32_t>(z, sh::cmd_line_ptr) == cmdline_address);
    CHECK(at<std::uint32_t>(z, zp::ext_cmd_line_ptr) == 0);
    REQUIRE(m.initrd);
    CHECK(at<std::uint32_t>(z, sh::ramdisk_image) == m.initrd->start);
    CHECK(at<std::uint32_t>(z, sh::ramdisk_size) == initrd.size());
    CHECK(at<std::uint64_t>(z, zp::acpi_rsdp_addr) == 0xe0000);

    REQUIRE(z[zp::e820_entries] == p.e820().size());
    for (std::size_t i = 0; i < p.e820().size(); ++i) {
        const std::size_t off = zp::e820_table + i * zp::e820_entry_size;
        CHECK(at<std::uint64_t>(z, off) == p.e820()[i].addr);
        CHECK(at<std::uint64_t>(z, off + 8) == p.e820()[i].size);
        CHECK(at<std::uint32_t>(z, off + 16) == static_cast<std::uint32_t>(p.e820()[i].type));
    }
    // Nothing written past the E820 table.
    const std::size_t end = zp::e820_table + p.e820().size() * zp::e820_entry_size;
    CHECK(std::all_of(z.begin() + static_cast<std::ptrdiff_t>(end), z.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST_CASE("the writes: disjoint, in RAM, with the right bytes at the right places", "[x86_64][boot]") {
    const byte_buffer file = synthetic_bzimage();
    const BzImage k = BzImage::parse(file);
    const byte_buffer initrd(1 * mib, 0xa5);
    const MemoryMap m = map_for(k, initrd.size());
    const BootPlan p = plan_boot(k, m, initrd);
    REQUIRE(p.writes().size() == 8);

    const GuestWrite& kernel = write_named(p, "kernel");
    CHECK(kernel.address == 0x100'0000);
    CHECK(kernel.bytes.data() == k.kernel().data());
    CHECK(kernel.bytes.size() == 64 * 1024);

    const GuestWrite& cmdline = write_named(p, "command line");
    CHECK(cmdline.address == 0x2'0000);
    CHECK(std::string(cmdline.bytes.begin(), cmdline.bytes.end() - 1) == m.cmdline);
    CHECK(cmdline.bytes.back() == 0);

    CHECK(write_named(p, "initrd").address == m.initrd->start);
    CHECK(write_named(p, "initrd").bytes.data() == initrd.data());
    CHECK(write_named(p, "ACPI tables").address == 0xe0000);
    CHECK(write_named(p, "zero page").address == 0x7000);
    CHECK(write_named(p, "GDT").address == 0x500);
    CHECK(write_named(p, "page tables").address == 0x9000);
    CHECK(write_named(p, "reset vector").address == 0xffff0);
    CHECK(write_named(p, "reset vector").bytes.size() == 16);

    for (const GuestWrite& a : p.writes())
        for (const GuestWrite& b : p.writes())
            if (&a != &b)
                CHECK_FALSE(GuestRange{a.address, a.bytes.size()}.overlaps({b.address, b.bytes.size()}));

    // Nothing may land in the decompressor's trampoline or the kernel's room.
    for (const GuestWrite& w : p.writes()) {
        INFO(w.what);
        CHECK_FALSE(GuestRange{w.address, w.bytes.size()}.overlaps({0x9d000, 0x2000}));
        if (w.what != "kernel")
            CHECK_FALSE(GuestRange{w.address, w.bytes.size()}.overlaps(k.load_range()));
    }
}

TEST_CASE("boot vCPU state: long mode, flat segments, RIP at the 64-bit entry", "[x86_64][boot]") {
    const BzImage k = BzImage::parse(synthetic_bzimage());
    const BootPlan p = plan_boot(k, map_for(k, 0), {});
    const BootCpuState& s = p.cpu();
    CHECK(s.rip == 0x100'0200);
    CHECK(s.rsi == 0x7000);
    CHECK(s.rflags == 0x2);
    CHECK(s.cr3 == 0x9000);
    CHECK(s.cr0 == 0x8000'0011);
    CHECK(s.cr4 == 0x20);
    CHECK(s.efer == 0x500);
    CHECK(s.cs.selector == 0x10);
    CHECK(s.cs.l == 1);
    CHECK(s.cs.db == 0);
    for (const Segment* seg : {&s.ds, &s.es, &s.ss, &s.fs, &s.gs}) {
        CHECK(seg->selector == 0x18);
        CHECK(seg->present == 1);
        CHECK(seg->limit == 0xffff'ffff);
    }
    CHECK(s.tr.type == 0xb);
    CHECK(s.ldt.unusable == 1);
    CHECK(s.gdt.base == 0x500);
    CHECK(s.gdt.limit == 47);

    // The GDT in memory holds the same descriptors the registers cache.
    const byte_view gdt = write_named(p, "GDT").bytes;
    REQUIRE(gdt.size() == 48);
    CHECK(at<std::uint64_t>(gdt, 0) == 0);
    CHECK(at<std::uint64_t>(gdt, 0x10) == 0x00af'9b00'0000'ffff);
    CHECK(at<std::uint64_t>(gdt, 0x18) == 0x00cf'9300'0000'ffff);
    CHECK(at<std::uint64_t>(gdt, 0x20) == gdt_descriptor(s.tr));
}

TEST_CASE("the page tables identity-map the first 4 GiB with 2 MiB pages", "[x86_64][boot]") {
    const byte_buffer t = build_identity_page_tables();
    REQUIRE(t.size() == page_tables_size);
    for (std::uint64_t va : {0x0ULL, 0x7000ULL, 0x100'0200ULL, 0x3fff'ffffULL, 0x4000'0000ULL, 0xbfff'f000ULL,
                             0xfee0'0000ULL, 0xffff'ffffULL})
        CHECK(translate(t, va) == va);
    // Nothing above 4 GiB.
    CHECK(load_le<std::uint64_t>(t.data() + page_size + 4 * 8) == 0);
    CHECK(load_le<std::uint64_t>(t.data() + 8) == 0);
}

TEST_CASE("plan_boot refuses pieces that do not fit together", "[x86_64][boot]") {
    SECTION("the kernel's init_size does not fit below the SHM region") {
        const BzImage k = BzImage::parse(synthetic_bzimage(64 * 1024, 100 << 20));
        LayoutRequest r;
        r.memory_bytes = 128 * mib;
        const MemoryMap m = layout_x86_64(r);
        CHECK_THROWS_WITH(plan_boot(k, m, {}), Catch::Contains("raise --memory"));
    }
    const BzImage k = BzImage::parse(synthetic_bzimage());
    SECTION("initrd size differs from the map") {
        const byte_buffer initrd(4096, 1);
        CHECK_THROWS_AS(plan_boot(k, map_for(k, 8192), initrd), LayoutError);
        CHECK_THROWS_AS(plan_boot(k, map_for(k, 0), initrd), LayoutError);
    }
    SECTION("initrd over the kernel") {
        const byte_buffer initrd(4096, 1);
        MemoryMap m = map_for(k, initrd.size());
        m.initrd = GuestRange{20 * mib, 4096};
        CHECK_THROWS_WITH(plan_boot(k, m, initrd), Catch::Contains("overlaps the kernel"));
    }
    SECTION("initrd above initrd_addr_max") {
        byte_buffer file = synthetic_bzimage();
        store_le(file.data() + sh::initrd_addr_max, std::uint32_t{0x0800'0000});
        const BzImage low = BzImage::parse(file);
        const byte_buffer initrd(4096, 1);
        LayoutRequest r;
        r.initrd_bytes = initrd.size();  // placed without the kernel's limit
        CHECK_THROWS_WITH(plan_boot(low, layout_x86_64(r), initrd), Catch::Contains("initrd_addr_max"));
    }
    SECTION("a command line longer than the kernel takes") {
        LayoutRequest r;
        r.cmdline_extra = std::string(3000, 'x');
        CHECK_THROWS_WITH(plan_boot(k, layout_x86_64(r), {}), Catch::Contains("at most 2047"));
    }
}

TEST_CASE("the reset vector writes the ACPI reset value to the reset port, then halts", "[x86_64][boot]") {
    // mov dx, 0x602; mov al, 1; out dx, al; hlt; jmp -3; hlt padding
    const byte_buffer expected{0xba, 0x02, 0x06, 0xb0, 0x01, 0xee, 0xf4, 0xeb, 0xfd,
                               0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4};
    CHECK(build_reset_vector() == expected);
    CHECK(reset_vector_address + build_reset_vector().size() == 0x10'0000);
}

TEST_CASE("a vmlinux boots through PVH: segments, start info, 32-bit entry state", "[x86_64][boot][pvh]") {
    const Vmlinux k = Vmlinux::parse(test::synthetic_vmlinux());
    const byte_buffer initrd(4096, 7);
    LayoutRequest r;
    r.memory_bytes = 256 * mib;
    r.initrd_bytes = initrd.size();
    r.initrd_addr_max = default_initrd_addr_max;
    r.kernel = k.load_range();
    const MemoryMap m = layout_x86_64(r);
    const BootPlan p = plan_boot(k, m, initrd, CpuTopology::flat(m.cpus));

    // The segments' file bytes at their physical addresses; no zero page,
    // no page tables (paging is off at the entry).
    std::vector<std::uint64_t> segment_at;
    for (const GuestWrite& w : p.writes())
        if (w.what == "kernel segment")
            segment_at.push_back(w.address);
    CHECK(segment_at == std::vector<std::uint64_t>{0x100'0000, 0x100'5000});
    for (const GuestWrite& w : p.writes()) {
        CHECK(w.what != "zero page");
        CHECK(w.what != "page tables");
    }
    const byte_view info = write_named(p, "PVH start info").bytes;
    CHECK(write_named(p, "PVH start info").address == pvh_start_info_address);
    CHECK(at<std::uint32_t>(info, 0) == hvm_start_magic);
    CHECK(at<std::uint64_t>(info, 24) == cmdline_address);
    CHECK(at<std::uint64_t>(info, 32) == p.acpi().rsdp_address);
    CHECK(at<std::uint32_t>(info, 48) == p.e820().size());
    CHECK(at<std::uint64_t>(info, 56) == m.initrd->start);  // the initrd is module 0
    CHECK(write_named(p, "initrd").address == m.initrd->start);

    const BootCpuState& s = p.cpu();
    CHECK(s.rip == 0x100'0040);
    CHECK(s.rbx == pvh_start_info_address);
    CHECK(s.cr0 == 0x11);  // PE and ET, no paging
    CHECK(s.cr4 == 0);
    CHECK(s.efer == 0);
    CHECK(s.cs.l == 0);
    CHECK(s.cs.db == 1);
    CHECK(s.cs.limit == 0xffff'ffff);
    CHECK(s.ds.db == 1);

    SECTION("an initrd over the kernel is refused") {
        MemoryMap over = m;
        over.initrd = GuestRange{0x100'2000, initrd.size()};
        CHECK_THROWS_WITH(plan_boot(k, over, initrd, CpuTopology::flat(m.cpus)), Catch::Contains("overlaps the kernel"));
    }
    SECTION("a command line beyond COMMAND_LINE_SIZE is refused") {
        LayoutRequest longer = r;
        longer.cmdline_extra = std::string(2100, 'x');
        CHECK_THROWS_WITH(plan_boot(k, layout_x86_64(longer), initrd, CpuTopology::flat(m.cpus)),
                          Catch::Contains("at most 2047"));
    }
    SECTION("a kernel beyond RAM is refused") {
        LayoutRequest small = r;
        small.memory_bytes = 128 * mib;
        small.kernel = {};
        test::SyntheticVmlinux spec;
        spec.segments = {{0x100'0000, 0x1000, 200 * mib}};
        const Vmlinux big = Vmlinux::parse(test::synthetic_vmlinux(spec));
        CHECK_THROWS_WITH(plan_boot(big, layout_x86_64(small), initrd, CpuTopology::flat(1)),
                          Catch::Contains("raise --memory"));
    }
}

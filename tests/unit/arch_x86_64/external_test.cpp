// Tests against inputs from outside the tree: Debian's stock kernel and
// ACPICA's iasl disassembler. Each prints "SKIPPED: <why>" and returns when
// its input is absent (ctest's SKIP_REGULAR_EXPRESSION turns that into a
// skip); CI provides both.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>


#include "arch/x86_64/acpi/acpi_tables.hpp"
#include "arch/x86_64/boot_plan.hpp"
#include "arch/x86_64/bzimage.hpp"
#include "arch/x86_64/layout.hpp"
#include "arch/x86_64/reset_vector.hpp"
#include "ktstr/test/file_contents.hpp"
#include "ktstr/test/shell_command.hpp"
#include "ktstr/test/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::x86_64;
using ktstr::test::shell;
using ktstr::test::ShellResult;
using ktstr::test::TempDir;
using ktstr::test::read_text;

namespace {

// $KTSTR_TEST_KERNEL, else the newest ~/.cache/ktstr/kernels/*/boot/vmlinuz-*
// that `ktstr-vmm kernel fetch` unpacked: not the links (default,
// sched-ext, names) and not what `kernel build` made (a lean kernel, built
// without relocation, whose ktstr/build.json says so).
std::optional<fs::path> debian_kernel() {
    if (const char* p = std::getenv("KTSTR_TEST_KERNEL"); p && *p)
        return fs::path(p);
    fs::path cache;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
        cache = x;
    else if (const char* h = std::getenv("HOME"); h && *h)
        cache = fs::path(h) / ".cache";
    else
        return std::nullopt;
    std::vector<fs::path> found;
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(cache / "ktstr" / "kernels", ec)) {
        std::error_code ec2;
        if (dir.is_symlink(ec2) || fs::exists(dir.path() / "ktstr" / "build.json", ec2))
            continue;
        // Debian names its arm64 kernels' releases "...-arm64" (fetched for
        // arm64 guests beside the x86_64 ones).
        if (dir.path().filename().string().ends_with("-arm64"))
            continue;
        for (const auto& f : fs::directory_iterator(dir.path() / "boot", ec2))
            if (f.path().filename().string().starts_with("vmlinuz-"))
                found.push_back(f.path());
    }
    if (found.empty())
        return std::nullopt;
    std::sort(found.begin(), found.end());
    return found.back();
}

// Standard error too: iasl and objdump report problems there.
ShellResult run(const std::string& command) { return shell(command + " 2>&1"); }

bool have_iasl() { return run("command -v iasl").status == 0; }

}  // namespace

TEST_CASE("Debian's kernel: setup header accepted, loaded at 16 MiB with room for init_size",
          "[x86_64][bzimage][external]") {
    const auto path = debian_kernel();
    if (!path) {
        std::cout << "SKIPPED: no Debian kernel (set KTSTR_TEST_KERNEL or run `ktstr-vmm kernel fetch`)\n";
        return;
    }
    INFO("kernel " << path->string());
    const BzImage k = BzImage::read(*path);
    const SetupHeader& h = k.header();
    CHECK(h.version >= 0x020c);
    CHECK((h.xloadflags & setup_header::xlf_kernel_64) != 0);
    CHECK((h.loadflags & setup_header::loaded_high) != 0);
    CHECK(h.relocatable);
    CHECK(h.kernel_alignment == 2 * mib);
    CHECK(h.pref_address == 16 * mib);
    CHECK(h.cmdline_size >= 2047);
    CHECK(h.init_size > k.kernel().size());
    CHECK(std::uint64_t{h.syssize} * 16 <= k.kernel().size());
    CHECK(k.kernel().size() + (h.setup_sects + 1u) * 512u == fs::file_size(*path));
    CHECK(k.load_address() == 16 * mib);
    CHECK(k.entry_64() == 16 * mib + 0x200);

    for (std::uint64_t memory : {256 * mib, 4096 * mib}) {
        INFO("memory " << memory / mib << " MiB");
        const byte_buffer initrd(20 * mib, 0);
        LayoutRequest r;
        r.memory_bytes = memory;
        r.initrd_bytes = initrd.size();
        r.initrd_addr_max = k.initrd_addr_max();
        r.kernel = k.load_range();
        const MemoryMap m = layout_x86_64(r);
        const BootPlan p = plan_boot(k, m, initrd);
        CHECK(p.cpu().rip == k.entry_64());
        REQUIRE(m.initrd);
        CHECK_FALSE(m.initrd->overlaps(k.load_range()));
    }
    // 128 MiB leaves RAM only up to 64 MiB below the SHM region: too little
    // for this kernel's init_size from 16 MiB, and the error says so.
    LayoutRequest small;
    small.memory_bytes = 128 * mib;
    CHECK_THROWS_WITH(plan_boot(k, layout_x86_64(small), {}), Catch::Contains("raise --memory"));
}

TEST_CASE("iasl -d disassembles every table without errors; the DSDT holds LNRO0005", "[x86_64][acpi][external]") {
    if (!have_iasl()) {
        std::cout << "SKIPPED: iasl not installed (Debian package acpica-tools)\n";
        return;
    }
    LayoutRequest r;
    r.cpus = 4;
    r.virtio_devices = 2;
    const acpi::AcpiTables tables = acpi::build_acpi_tables(layout_x86_64(r));
    TempDir dir{"acpi"};
    for (const acpi::AcpiTable& t : tables.tables) {
        // iasl 20200925 takes no raw RSDP ("does not contain a valid ACPI
        // table"); acpi_tables_test checks its fields and both checksums.
        if (t.signature == "RSD PTR ")
            continue;
        const std::string name = t.signature;
        INFO(name);
        const fs::path dat = dir.path() / (name + ".dat");
        {
            std::ofstream out(dat, std::ios::binary);
            const byte_view b = tables.table(t);
            out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
        }
        const ShellResult res = run("cd '" + dir.path().string() + "' && iasl -d '" + dat.filename().string() + "'");
        INFO(res.out);
        CHECK(res.status == 0);
        CHECK(res.out.find("Error") == std::string::npos);
        CHECK(res.out.find("Warning") == std::string::npos);
        const std::string dsl = read_text(dir.path() / (name + ".dsl"));
        CHECK_FALSE(dsl.empty());
        CHECK(dsl.find("Invalid") == std::string::npos);
        if (name == "DSDT") {
            INFO(dsl);
            CHECK(dsl.find("Name (_HID, \"LNRO0005\")") != std::string::npos);
            CHECK(dsl.find("Memory32Fixed (ReadWrite,") != std::string::npos);
            CHECK(dsl.find("0xD0001000,") != std::string::npos);
            CHECK(dsl.find("Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )") != std::string::npos);
            CHECK(dsl.find("EisaId (\"PNP0501\")") != std::string::npos);
            CHECK(dsl.find("Name (\\_S5, Package (0x04)") != std::string::npos);
        }
        if (name == "APIC")
            CHECK(dsl.find("Local Apic ID : 03") != std::string::npos);
        if (name == "FACP")
            CHECK(dsl.find("Hardware Reduced (V5) : 1") != std::string::npos);
    }
}

TEST_CASE("objdump reads the reset vector as real-mode code writing the reset port", "[x86_64][boot][external]") {
    if (run("command -v objdump").status != 0) {
        std::cout << "SKIPPED: objdump not installed (Debian package binutils)\n";
        return;
    }
    TempDir dir{"acpi"};
    const fs::path bin = dir.path() / "reset_vector.bin";
    {
        const byte_buffer code = build_reset_vector();
        std::ofstream out(bin, std::ios::binary);
        out.write(reinterpret_cast<const char*>(code.data()), static_cast<std::streamsize>(code.size()));
    }
    const ShellResult res =
        run("objdump -D -b binary -mi8086 --adjust-vma=0xffff0 '" + bin.string() + "'");
    INFO(res.out);
    REQUIRE(res.status == 0);
    CHECK(res.out.find("mov    $0x602,%dx") != std::string::npos);
    CHECK(res.out.find("mov    $0x1,%al") != std::string::npos);
    CHECK(res.out.find("out    %al,(%dx)") != std::string::npos);
    CHECK(res.out.find("hlt") != std::string::npos);
    CHECK(res.out.find("jmp    0xffff6") != std::string::npos);  // back to the hlt
}

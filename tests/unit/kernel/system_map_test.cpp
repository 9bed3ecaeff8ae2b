#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "kernel/system_map.hpp"
#include "ktstr/test/temp_dir.hpp"

using ktstr::vmm::kernel::SystemMap;
using ktstr::vmm::kernel::system_map_for;
namespace fs = std::filesystem;

namespace {
constexpr const char* sample =
    "0000000000000000 D __per_cpu_start\n"
    "ffffffff81000000 T _text\n"
    "ffffffff81000000 T startup_64\n"
    "ffffffff81001000 t do_idle\n"
    "ffffffff81002000 T default_idle\n"
    "ffffffff81002100 D some_data\n"
    "this line is not a symbol\n"
    "ffffffff8100zz00 T broken_address\n"
    "ffffffff81003000 T _etext\n"
    "ffffffff82000000 D init_task\n";
}

TEST_CASE("System.map: an address is named by the text symbol at or below it") {
    const auto m = SystemMap::parse(sample);
    CHECK(m.describe(0xffffffff81001000) == "do_idle+0x0");
    CHECK(m.describe(0xffffffff810011a4) == "do_idle+0x1a4");
    // Data symbols do not split the text: 0x...2150 is still in default_idle.
    CHECK(m.describe(0xffffffff81002150) == "default_idle+0x150");
    CHECK(m.describe(0xffffffff81003000) == "_etext+0x0");
    CHECK(m.address_of("_text") == 0xffffffff81000000);
    CHECK_FALSE(m.address_of("some_data"));  // not text
}

TEST_CASE("System.map: addresses outside the kernel's text are not named") {
    const auto m = SystemMap::parse(sample);
    CHECK_FALSE(m.describe(0xfff0));                // real mode, a user address
    CHECK_FALSE(m.describe(0xffffffff80ffffff));    // below _text
    CHECK_FALSE(m.describe(0xffffffff81003001));    // past _etext (a module, data)
    CHECK_FALSE(SystemMap::parse("").describe(0xffffffff81000000));
    CHECK_FALSE(SystemMap::parse("garbage\n\n\nffff\n").describe(0));
}

TEST_CASE("System.map: found next to a Debian vmlinuz or at the top of a kernel tree") {
    const ktstr::test::TempDir dir("sysmap");
    const fs::path& root = dir.path();
    fs::create_directories(root / "boot");
    std::ofstream(root / "boot/vmlinuz-6.1.0-1") << "x";
    CHECK_FALSE(system_map_for(root / "boot/vmlinuz-6.1.0-1", "6.1.0-1"));
    std::ofstream(root / "boot/System.map-6.1.0-1") << sample;
    CHECK(system_map_for(root / "boot/vmlinuz-6.1.0-1", "6.1.0-1") == root / "boot/System.map-6.1.0-1");

    fs::create_directories(root / "tree/arch/x86/boot");
    std::ofstream(root / "tree/arch/x86/boot/bzImage") << "x";
    std::ofstream(root / "tree/System.map") << sample;
    CHECK(system_map_for(root / "tree/arch/x86/boot/bzImage", "bzImage") == root / "tree/System.map");
    CHECK(SystemMap::read(root / "tree/System.map").size() == 5);  // text symbols, the broken line skipped
    CHECK_THROWS_WITH(SystemMap::read(root / "missing"), Catch::Contains("missing"));
}

TEST_CASE("System.map: for diagnostics, only a map that can name something") {
    const ktstr::test::TempDir dir("sysmap-useful");
    const fs::path& root = dir.path();
    std::ofstream(root / "System.map") << sample;
    const auto map = SystemMap::read_if_useful(root / "System.map");
    REQUIRE(map);
    CHECK(map->size() == 5);
    // Debian's stub: one line, no text symbol.
    std::ofstream(root / "stub") << "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n";
    CHECK_FALSE(SystemMap::read_if_useful(root / "stub"));
    CHECK_FALSE(SystemMap::read_if_useful(root / "missing"));
    CHECK_FALSE(SystemMap::read_if_useful(fs::path()));
}

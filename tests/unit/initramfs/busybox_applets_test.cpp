// busybox's applet list read from its name table (for an arm64 busybox on
// an x86_64 host) against what the binary itself says with --list.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "initramfs/guest_programs.hpp"

namespace fs = std::filesystem;
using namespace ktstr::vmm::initramfs;

TEST_CASE("busybox applets: the name table gives what --list gives", "[initramfs][busybox]") {
    // Debian's busybox-static (scripts/setup.sh installs it).
    const auto listed = busybox_applets(default_busybox);  // runs it: same architecture
    const auto table = busybox_table_applets(default_busybox);
    CHECK(listed.size() > 100);
    CHECK(table == listed);
    CHECK(std::is_sorted(table.begin(), table.end()));
    CHECK(std::find(table.begin(), table.end(), "init") == table.end());
}

TEST_CASE("busybox applets: a file without the table is refused", "[initramfs][busybox]") {
    const fs::path f = fs::temp_directory_path() / "ktstr-busybox-test-not-busybox";
    {
        std::ofstream o(f, std::ios::binary);
        o << std::string(4096, 'x');
    }
    CHECK_THROWS_WITH(busybox_table_applets(f), Catch::Contains("no applet table"));
    fs::remove(f);
}

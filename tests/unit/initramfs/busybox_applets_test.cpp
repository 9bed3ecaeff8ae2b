// busybox's applet list read from its name table (for an arm64 busybox on
// an x86_64 host) against what the binary itself says with --list.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

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

namespace {

// Sets an environment variable for one scope.
struct ScopedEnv {
    std::string name;
    std::optional<std::string> old;
    ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
        if (const char* v = std::getenv(name.c_str()))
            old = v;
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (old)
            ::setenv(name.c_str(), old->c_str(), 1);
        else
            ::unsetenv(name.c_str());
    }
};

}  // namespace

TEST_CASE("arm64 guest programs: only arm64 files are taken, and a miss says how to get them",
          "[initramfs][arm64]") {
    using ktstr::vmm::kernel::KernelArch;
    const fs::path dir = fs::temp_directory_path() / "ktstr-arm64-bin-test";
    fs::remove_all(dir);
    fs::create_directories(dir);
    // This host's own busybox where an arm64 ktstr-init is looked for: an
    // x86_64 program would only fail inside the guest.
    fs::copy_file(default_busybox, dir / "ktstr-init");
    {
        ScopedEnv bin(arm64_bin_dir_variable, dir.string());
        CHECK_THROWS_WITH(guest_program_for("ktstr-init", KernelArch::arm64), Catch::Contains("is not an arm64 program"));
        // The native architecture is the usual lookup.
        CHECK_NOTHROW(busybox_for(ktstr::vmm::kernel::native_arch));
    }
    {
        ScopedEnv sysroot("KTSTR_ARM64_SYSROOT", (dir / "no-sysroot").string());
        CHECK_THROWS_WITH(busybox_for(KernelArch::arm64), Catch::Contains("scripts/setup_arm64.sh"));
    }
    fs::remove_all(dir);
}

TEST_CASE("arm64 guest programs: the variable, then the install's libexec, then the cross build tree",
          "[initramfs][arm64]") {
    const fs::path install = (ktstr_code_dir() / ".." / "libexec" / "ktstr" / "arm64").lexically_normal();
    {
        ScopedEnv bin(arm64_bin_dir_variable, "/somewhere/arm64");
        const auto c = arm64_program_candidates("ktstr-init");
        REQUIRE(c.size() == 3);
        CHECK(c[0] == fs::path("/somewhere/arm64/ktstr-init"));
        // An installed ktstr-vmm runs the arm64 programs installed with it,
        // not those of the tree it was built from.
        CHECK(c[1] == install / "ktstr-init");
        CHECK(c[2].parent_path().filename() == "init");
        CHECK(c[2].parent_path().parent_path().filename() == "guest");
    }
    ScopedEnv no_bin(arm64_bin_dir_variable, "");
    const auto vmm = arm64_program_candidates("ktstr-vmm");
    REQUIRE(vmm.size() == 2);
    CHECK(vmm[0] == install / "ktstr-vmm");
    CHECK(vmm[1].parent_path().filename() == "vmm");
    const auto selftest = arm64_program_candidates("ktstr-selftest");
    REQUIRE(selftest.size() == 2);
    CHECK(selftest[1].parent_path().filename() == "selftest");
}

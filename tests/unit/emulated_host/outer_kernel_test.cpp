// The outer guest's kernel and modules per architecture.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "emulated_host/outer_initramfs.hpp"
#include "emulated_host/outer_kernel.hpp"
#include "ktstr/test/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ktstr::vmm::emulated_host;
using ktstr::vmm::kernel::KernelArch;
using ktstr::test::TempDir;

namespace {

// A Debian-style tree for release `r`; an arm64 one's vmlinuz starts with
// an Image header's magic.
void make_tree(const fs::path& root, const std::string& r, bool arm64) {
    fs::create_directories(root / "boot");
    fs::create_directories(root / "lib/modules" / r / "kernel");
    std::vector<char> image(4096);
    if (arm64) {
        const char magic[] = {'A', 'R', 'M', 0x64};
        std::copy(magic, magic + 4, image.begin() + 0x38);
    }
    std::ofstream(root / "boot" / ("vmlinuz-" + r), std::ios::binary).write(image.data(), 4096);
}

}  // namespace

TEST_CASE("outer modules: the data port's transport per architecture; KVM built in on arm64") {
    CHECK(outer_module_names() == std::vector<std::string>{"virtio_pci", "virtio_console", "kvm_amd"});
    CHECK(outer_module_names(KernelArch::arm64) == std::vector<std::string>{"virtio_mmio", "virtio_console"});
}

TEST_CASE("outer kernel: each architecture's default, and no kernel of another") {
    TempDir d{"outer-kernel"};
    ::setenv("XDG_CACHE_HOME", d.path().c_str(), 1);
    ::unsetenv("KTSTR_EMULATED_HOST_KERNEL");
    const auto root = d.path() / "ktstr/kernels";
    make_tree(root / "6.1.0-57-cloud-amd64", "6.1.0-57-cloud-amd64", false);
    make_tree(root / "6.1.0-57-cloud-arm64", "6.1.0-57-cloud-arm64", true);
    fs::create_directory_symlink("6.1.0-57-cloud-amd64", root / "default");
    fs::create_directory_symlink("6.1.0-57-cloud-arm64", root / "default-arm64");

    CHECK(find_outer_kernel().release == "6.1.0-57-cloud-amd64");
    const auto a = find_outer_kernel(KernelArch::arm64);
    CHECK(a.release == "6.1.0-57-cloud-arm64");
    CHECK(a.arch == KernelArch::arm64);

    const auto x86 = root / "6.1.0-57-cloud-amd64/boot/vmlinuz-6.1.0-57-cloud-amd64";
    ::setenv("KTSTR_EMULATED_HOST_KERNEL", x86.c_str(), 1);
    CHECK_THROWS_WITH(find_outer_kernel(KernelArch::arm64), Catch::Contains("is an x86_64 kernel, not arm64"));
    CHECK(find_outer_kernel().release == "6.1.0-57-cloud-amd64");
    ::unsetenv("KTSTR_EMULATED_HOST_KERNEL");
    ::unsetenv("XDG_CACHE_HOME");
}

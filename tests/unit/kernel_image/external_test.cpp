// Against Debian's stock kernel, when `ktstr-vmm kernel fetch` put one in
// the cache (or KTSTR_TEST_KERNEL names one); prints "SKIPPED: <why>"
// otherwise, which ctest reports as a skip. CI has it.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "kernel/cache_dir.hpp"
#include "arch/x86_64/vmlinux.hpp"
#include "kernel_image/vmlinux_extract.hpp"

namespace fs = std::filesystem;
using namespace ktstr::vmm;
using namespace ktstr::vmm::kernel_image;
namespace x86 = ktstr::vmm::x86_64;

// Its payload unpacks to a vmlinux with a
// PVH entry inside its segments.
TEST_CASE("Debian's kernel has a vmlinux with a PVH entry", "[kernel_image][external]") {
    fs::path image;
    if (const char* p = std::getenv("KTSTR_TEST_KERNEL"); p && *p) {
        image = p;
    } else {
        const fs::path link = kernel::ktstr_cache_dir("kernels") / "default";
        std::error_code ec;
        for (const auto& f : fs::directory_iterator(link / "boot", ec))
            if (f.path().filename().string().starts_with("vmlinuz-"))
                image = f.path();
    }
    if (image.empty() || !fs::is_regular_file(image)) {
        std::cout << "SKIPPED: no Debian kernel in the cache (ktstr-vmm kernel fetch)\n";
        return;
    }
    const auto bz = x86::BzImage::read(image);
    const x86::Vmlinux v = x86::Vmlinux::parse(extract_vmlinux(bz));
    CHECK(v.pvh_entry() > 0x100'0000);
    CHECK(v.load_range().start == 0x100'0000);
    CHECK(v.segments().size() >= 3);
}

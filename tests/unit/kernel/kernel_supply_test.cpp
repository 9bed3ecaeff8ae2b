// Kernel supply without the network: config checks, path resolution, and
// the cache listing against trees laid out like `dpkg-deb -x` output.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "arch/aarch64/image.hpp"
#include "kernel/kernel_supply.hpp"
#include "ktstr/test/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ktstr::vmm::kernel;
using ktstr::test::TempDir;

namespace {

void touch(const fs::path& p, const std::string& content = "x") {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
}

// A Debian-style tree for release R under root.
void make_tree(const fs::path& root, const std::string& r, const std::string& config) {
    touch(root / "boot" / ("vmlinuz-" + r));
    touch(root / "boot" / ("config-" + r), config);
    fs::create_directories(root / "lib/modules" / r / "kernel");
}

}  // namespace

TEST_CASE("missing_config names what the kernel lacks", "[kernel]") {
    TempDir d{"kernel"};
    touch(d.path() / "config",
          "CONFIG_VIRTIO_CONSOLE=m\nCONFIG_VIRTIO_MMIO=m\nCONFIG_ACPI=y\n# CONFIG_DEVMEM is not set\n"
          "CONFIG_SERIAL_8250=y\nCONFIG_BLK_DEV_INITRD=y\nCONFIG_KVM=m\n");
    auto m = missing_config(d.path() / "config", false);
    REQUIRE(m.size() == 1);
    CHECK(m[0].starts_with("CONFIG_DEVMEM"));
    auto k = missing_config(d.path() / "config", true);
    REQUIRE(k.size() == 2);
    CHECK(k[1].starts_with("CONFIG_KVM_AMD"));
    CHECK_THROWS_WITH(missing_config(d.path() / "nope", false), Catch::Contains("cannot read"));
}

TEST_CASE("resolve a bzImage path finds its Debian-style module tree", "[kernel]") {
    TempDir d{"kernel"};
    make_tree(d.path(), "6.1.0-9-cloud-amd64", "");
    auto k = resolve((d.path() / "boot/vmlinuz-6.1.0-9-cloud-amd64").string());
    CHECK(k.release == "6.1.0-9-cloud-amd64");
    REQUIRE(k.modules_dir);
    CHECK(*k.modules_dir == d.path() / "lib/modules/6.1.0-9-cloud-amd64");
    REQUIRE(k.config);

    // --modules overrides; a bzImage elsewhere has none by default.
    touch(d.path() / "elsewhere/bzImage");
    auto bare = resolve((d.path() / "elsewhere/bzImage").string());
    CHECK_FALSE(bare.modules_dir);
    auto given = resolve((d.path() / "elsewhere/bzImage").string(), d.path() / "lib/modules/6.1.0-9-cloud-amd64");
    CHECK(given.modules_dir);
    CHECK_THROWS_WITH(resolve((d.path() / "missing").string()), Catch::Contains("no such file"));
    CHECK_THROWS_WITH(resolve((d.path() / "elsewhere/bzImage").string(), d.path() / "nodir"),
                      Catch::Contains("not a directory"));
}

TEST_CASE("list_cached lists complete release trees only", "[kernel]") {
    TempDir d{"kernel"};
    ::setenv("XDG_CACHE_HOME", d.path().c_str(), 1);
    auto root = cache_root();
    CHECK(root == d.path() / "ktstr/kernels");
    make_tree(root / "6.1.0-2-cloud-amd64", "6.1.0-2-cloud-amd64", "");
    make_tree(root / "6.1.0-1-cloud-amd64", "6.1.0-1-cloud-amd64", "");
    fs::create_directories(root / ".fetch-abc/tree/boot");  // an interrupted fetch
    fs::create_directories(root / "empty");
    auto l = list_cached();
    REQUIRE(l.size() == 2);
    CHECK(l[0].release == "6.1.0-1-cloud-amd64");
    CHECK(l[1].release == "6.1.0-2-cloud-amd64");
    ::unsetenv("XDG_CACHE_HOME");
}

TEST_CASE("the default link names the default kernel without asking apt", "[kernel]") {
    TempDir d{"kernel"};
    ::setenv("XDG_CACHE_HOME", d.path().c_str(), 1);
    auto root = cache_root();
    CHECK_FALSE(cached_default());
    make_tree(root / "6.1.0-3-cloud-amd64", "6.1.0-3-cloud-amd64", "");
    make_tree(root / "6.12.1+deb12-cloud-amd64", "6.12.1+deb12-cloud-amd64", "");
    fs::create_directory_symlink("6.1.0-3-cloud-amd64", root / default_link);
    auto k = cached_default();
    REQUIRE(k);
    CHECK(k->release == "6.1.0-3-cloud-amd64");
    CHECK(k->bzimage == root / "6.1.0-3-cloud-amd64/boot/vmlinuz-6.1.0-3-cloud-amd64");
    auto r = resolve("default");  // from the link: no apt involved
    CHECK(r.bzimage == k->bzimage);
    REQUIRE(r.modules_dir);
    // The link is not listed as a kernel of its own.
    CHECK(list_cached().size() == 2);
    // A link pointing outside the cache is not ours.
    fs::remove(root / default_link);
    fs::create_directory_symlink(root / "6.1.0-3-cloud-amd64", root / default_link);
    CHECK_FALSE(cached_default());
    ::unsetenv("XDG_CACHE_HOME");
}

namespace {

// A built kernel's tree as `kernel build` installs it: no modules, its
// System.map and schedulers.
void make_built_tree(const fs::path& root, const std::string& r) {
    touch(root / "boot" / ("vmlinuz-" + r));
    touch(root / "boot" / ("config-" + r), "CONFIG_SCHED_CLASS_EXT=y\n");
    touch(root / "boot" / ("System.map-" + r), "ffffffff81000000 T _text\n");
    touch(root / "ktstr/schedulers/scx_simple");
}

}  // namespace

TEST_CASE("resolve sched-ext and names through the links of the cache", "[kernel]") {
    TempDir d{"kernel"};
    ::setenv("XDG_CACHE_HOME", d.path().c_str(), 1);
    const auto root = cache_root();
    fs::create_directories(root);
    CHECK_THROWS_WITH(resolve("sched-ext"), "no built kernel: run 'ktstr-vmm kernel build' first");

    const std::string r = "6.12.118-ktstr-0123456789ab";
    make_built_tree(root / r, r);
    fs::create_directory_symlink(r, root / sched_ext_link);
    fs::create_directory_symlink(r, root / "mine");
    auto k = resolve("sched-ext");
    CHECK(k.release == r);
    CHECK(k.bzimage == root / r / "boot" / ("vmlinuz-" + r));
    CHECK_FALSE(k.modules_dir);
    REQUIRE(k.schedulers_dir);
    CHECK(*k.schedulers_dir == root / r / "ktstr/schedulers");
    REQUIRE(k.system_map);
    CHECK(*k.system_map == root / r / "boot" / ("System.map-" + r));
    CHECK(resolve("mine").bzimage == k.bzimage);
    CHECK(resolve(r).bzimage == k.bzimage);  // a release by its directory
    // The bzImage by path finds the schedulers beside boot/ too.
    auto by_path = resolve(k.bzimage.string());
    REQUIRE(by_path.schedulers_dir);
    CHECK(list_cached().size() == 1);  // links are not kernels of their own
    REQUIRE(list_cached()[0].schedulers_dir);

    CHECK_THROWS_WITH(resolve("nosuch"), Catch::Contains("no kernel of that name"));
    fs::create_directory_symlink("6.0.0-gone", root / "dangling");
    CHECK_THROWS_WITH(resolve("dangling"), Catch::Contains("names no kernel"));
    // A link pointing outside the cache is not ours.
    fs::create_directory_symlink(root / r, root / "absolute");
    CHECK_THROWS_WITH(resolve("absolute"), Catch::Contains("names no kernel"));
    // sched-ext pointing at a release that went away: as if none was built.
    fs::remove_all(root / r);
    CHECK_THROWS_WITH(resolve("sched-ext"), Catch::Contains("no built kernel"));
    ::unsetenv("XDG_CACHE_HOME");
}

namespace {

// An arm64 package's tree: its vmlinuz an (uncompressed) Image.
void make_arm64_tree(const fs::path& root, const std::string& r, const std::string& config) {
    std::vector<std::uint8_t> image(4096);
    ktstr::store_le<std::uint64_t>(image.data() + 0x10, 1 << 20);
    ktstr::store_le<std::uint32_t>(image.data() + 0x38, ktstr::vmm::aarch64::image_magic);
    fs::create_directories(root / "boot");
    std::ofstream(root / "boot" / ("vmlinuz-" + r), std::ios::binary)
        .write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
    touch(root / "boot" / ("config-" + r), config);
    fs::create_directories(root / "lib/modules" / r / "kernel");
}

}  // namespace

TEST_CASE("each architecture has its own default link and package", "[kernel]") {
    CHECK(std::string(default_package_for(KernelArch::x86_64)) == "linux-image-cloud-amd64");
    CHECK(std::string(default_package_for(KernelArch::arm64)) == "linux-image-cloud-arm64");
    CHECK(std::string(default_link_for(KernelArch::x86_64)) == "default");
    CHECK(std::string(default_link_for(KernelArch::arm64)) == "default-arm64");

    TempDir d{"kernel"};
    ::setenv("XDG_CACHE_HOME", d.path().c_str(), 1);
    auto root = cache_root();
    make_tree(root / "6.1.0-57-cloud-amd64", "6.1.0-57-cloud-amd64", "");
    make_arm64_tree(root / "6.1.0-57-cloud-arm64", "6.1.0-57-cloud-arm64", "");
    fs::create_directory_symlink("6.1.0-57-cloud-amd64", root / default_link);
    CHECK_FALSE(cached_default(KernelArch::arm64));  // x86_64's link is not arm64's
    fs::create_directory_symlink("6.1.0-57-cloud-arm64", root / default_link_for(KernelArch::arm64));

    auto x = resolve("default");
    CHECK(x.release == "6.1.0-57-cloud-amd64");
    CHECK(x.arch == KernelArch::x86_64);
    auto a = resolve("default", {}, KernelArch::arm64);  // from the link: no apt involved
    CHECK(a.release == "6.1.0-57-cloud-arm64");
    CHECK(a.arch == KernelArch::arm64);
    CHECK(a.bzimage == root / "6.1.0-57-cloud-arm64/boot/vmlinuz-6.1.0-57-cloud-arm64");
    REQUIRE(a.modules_dir);
    CHECK(resolve("default-arm64").release == a.release);  // the link as a name
    CHECK(resolve(a.bzimage.string()).arch == KernelArch::arm64);

    // An Image unpacked beside a gzip'd vmlinuz is what boots.
    touch(root / "6.1.0-57-cloud-arm64/boot/Image-6.1.0-57-cloud-arm64");
    CHECK(resolve("default", {}, KernelArch::arm64).bzimage ==
          root / "6.1.0-57-cloud-arm64/boot/Image-6.1.0-57-cloud-arm64");
    CHECK(resolve(a.bzimage.string()).bzimage == root / "6.1.0-57-cloud-arm64/boot/Image-6.1.0-57-cloud-arm64");
    CHECK(list_cached().size() == 2);
    ::unsetenv("XDG_CACHE_HOME");
}

TEST_CASE("missing_config asks an arm64 kernel for the device tree's devices", "[kernel]") {
    TempDir d{"kernel"};
    // Debian's cloud-arm64 6.1: KVM and the 8250 built in, virtio as modules.
    const std::string debian =
        "CONFIG_VIRTIO_CONSOLE=m\nCONFIG_VIRTIO_MMIO=m\nCONFIG_DEVMEM=y\nCONFIG_SERIAL_8250=y\n"
        "CONFIG_SERIAL_OF_PLATFORM=y\nCONFIG_BLK_DEV_INITRD=y\nCONFIG_ARM_GIC_V3=y\nCONFIG_KVM=y\n"
        "CONFIG_SERIAL_AMBA_PL011=y\nCONFIG_PCI_HOST_GENERIC=y\nCONFIG_SERIAL_8250_PCI=y\n";
    touch(d.path() / "config", debian);
    CHECK(missing_config(d.path() / "config", true, KernelArch::arm64).empty());
    // No ACPI asked of arm64; KVM_AMD is x86_64's.
    touch(d.path() / "bare", "CONFIG_VIRTIO_MMIO=m\n");
    auto m = missing_config(d.path() / "bare", false, KernelArch::arm64);
    REQUIRE(m.size() == 6);
    CHECK(m[0].starts_with("CONFIG_VIRTIO_CONSOLE"));
    CHECK(m[3].starts_with("CONFIG_SERIAL_OF_PLATFORM"));
    CHECK(m[5].starts_with("CONFIG_ARM_GIC_V3"));
    auto k = missing_config(d.path() / "bare", true, KernelArch::arm64);
    REQUIRE(k.size() == 10);
    CHECK(k[6].starts_with("CONFIG_KVM ("));
    // The same file checked as x86_64 asks for ACPI and KVM_AMD instead.
    auto x = missing_config(d.path() / "config", true);
    REQUIRE(x.size() == 2);
    CHECK(x[0].starts_with("CONFIG_ACPI"));
    CHECK(x[1].starts_with("CONFIG_KVM_AMD"));
}

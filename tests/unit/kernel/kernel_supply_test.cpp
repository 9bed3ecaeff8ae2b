// Kernel supply without the network: config checks, path resolution, and
// the cache listing against trees laid out like `dpkg-deb -x` output.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

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

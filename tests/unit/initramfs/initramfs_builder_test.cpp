// Whole images: plan, write, cache, and read back. Busybox stands in for
// ktstr-init (any static program will do as /init here). Booting a built
// image is tests/vm/run_vm_test.py's part (`ktstr-vmm run` builds one).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>

#include <stdlib.h>

#include <fmt/core.h>

#include "default_kernel.hpp"
#include "initramfs/cpio_reader.hpp"
#include "initramfs/guest_programs.hpp"
#include "initramfs/initramfs_builder.hpp"
#include "initramfs/module_info.hpp"
#include "ktstr/test/file_contents.hpp"
#include "ktstr/test/shell_command.hpp"
#include "ktstr/test/temp_dir.hpp"
#include "synthetic_module.hpp"

namespace fs = std::filesystem;
using namespace ktstr;
using namespace ktstr::vmm::initramfs;

namespace {

using test::read_bytes;

std::map<std::string, CpioEntry> entries_of(const fs::path& image) {
    std::map<std::string, CpioEntry> out;
    for (auto& e : read_initramfs(read_bytes(image))) {
        CHECK_FALSE(out.contains(e.path));
        out[e.path] = std::move(e);
    }
    return out;
}

// Image cache in the scratch directory, for the life of the test (each
// test case runs in its own process under ctest).
struct CacheHere {
    explicit CacheHere(const fs::path& dir) { ::setenv("XDG_CACHE_HOME", dir.c_str(), 1); }
    ~CacheHere() { ::unsetenv("XDG_CACHE_HOME"); }
};

InitramfsSpec base_spec() {
    InitramfsSpec s;
    s.init = default_busybox;
    s.busybox = default_busybox;
    s.command = {"/bin/sh", "-c", "echo hi"};
    s.environment = {"HOME=/root", "A=b=c"};
    return s;
}

}  // namespace

TEST_CASE("an image holds init, busybox and its applets, the command, and the modules in order", "[builder]") {
    const auto k = test::default_kernel();  // before the cache moves
    test::TempDir d{"initramfs"};
    CacheHere cache(d.path() / "cache");
    d.write("tree/sub/data.txt", "data");
    fs::create_symlink("sub/data.txt", d.path() / "tree/link");

    auto spec = base_spec();
    spec.programs = {"/bin/true"};
    spec.files = {{"/bin/ls", "/opt/ls"}, {d.path() / "tree", "/srv/tree"}};
    spec.modules_dir = k.modules_dir;
    spec.kernel_config = k.config;
    spec.modules = {{"kvm-amd", "nested=1"}, {"virtio_console", ""}};

    const auto b = build_initramfs(spec);
    CHECK_FALSE(b.from_cache);
    CHECK(b.path.parent_path() == d.path() / "cache/ktstr/initramfs");
    CHECK(b.path.filename() == b.key + ".cpio.gz");
    const auto e = entries_of(b.path);

    const auto busybox = read_bytes(default_busybox);
    CHECK(e.at("init").data == busybox);
    CHECK(e.at("bin/busybox").data == busybox);
    for (const auto& a : required_applets()) {
        if (a == "true")
            continue;  // given as a program below: the program wins
        INFO(a);
        CHECK(e.at("bin/" + a).is_symlink());
        CHECK(e.at("bin/" + a).text() == "busybox");
    }
    CHECK_FALSE(e.contains("bin/init"));  // /init is init, not busybox's applet
    // An explicit program wins over the applet of the same name.
    CHECK(e.at("bin/true").is_file());
    CHECK(e.at("bin/true").data == read_bytes("/bin/true"));
    CHECK(e.at("opt/ls").is_file());
    CHECK(e.contains("lib64/ld-linux-x86-64.so.2"));
    CHECK(e.contains("lib/x86_64-linux-gnu/libc.so.6"));
    CHECK(e.at("srv/tree/sub/data.txt").text() == "data");
    CHECK(e.at("srv/tree/link").text() == "sub/data.txt");
    CHECK(e.at("dev/console").is_char_device());
    CHECK((e.at("tmp").mode & 07777) == 01777);

    CHECK(e.at("etc/ktstr/command").text() == std::string("/bin/sh\0-c\0echo hi\0", 19));
    CHECK(e.at("etc/ktstr/environment").text() == std::string("HOME=/root\0A=b=c\0", 17));
    CHECK_FALSE(e.contains("etc/ktstr/scheduler"));  // only when a scheduler is given

    // The module list: load order, each line a path in the image.
    const auto list = e.at("etc/ktstr/modules").text();
    std::vector<std::string> lines;
    for (std::size_t pos = 0; pos < list.size();) {
        const auto nl = list.find('\n', pos);
        lines.push_back(list.substr(pos, nl - pos));
        pos = nl + 1;
    }
    REQUIRE(lines.size() == b.plan.modules.size());
    REQUIRE(lines.size() >= 4);
    const auto base = "/lib/modules/" + k.release + "/";
    CHECK(lines[0] == base + "kernel/virt/lib/irqbypass.ko");
    CHECK(lines[1] == base + "kernel/arch/x86/kvm/kvm.ko");
    CHECK(lines[2] == base + "kernel/arch/x86/kvm/kvm-amd.ko nested=1");
    CHECK(lines.back() == base + "kernel/drivers/char/virtio_console.ko");
    for (const auto& m : b.plan.modules) {
        INFO(m.guest_path);
        const auto& file = e.at(m.guest_path.substr(1));
        CHECK(file.data == read_bytes(m.module.file));  // 6.1 modules are plain .ko
        CHECK_FALSE(m.compressed);
    }

    // Again: the cache answers with the same file, not rebuilt.
    const auto mtime = fs::last_write_time(b.path);
    const auto again = build_initramfs(spec);
    CHECK(again.from_cache);
    CHECK(again.path == b.path);
    CHECK(again.key == b.key);
    CHECK(fs::last_write_time(b.path) >= mtime);

    // A changed input is a new image.
    d.write("tree/sub/data.txt", "DATA");
    const auto changed = build_initramfs(spec);
    CHECK_FALSE(changed.from_cache);
    CHECK(changed.key != b.key);
    CHECK(entries_of(changed.path).at("srv/tree/sub/data.txt").text() == "DATA");
    // So is a different command.
    spec.command.push_back("more");
    CHECK(build_initramfs(spec).key != changed.key);
}

TEST_CASE("bsdtar and cpio list a built image", "[builder]") {
    test::TempDir d{"initramfs"};
    CacheHere cache(d.path() / "cache");
    for (auto c : {Compression::gzip, Compression::zstd, Compression::none}) {
        auto spec = base_spec();
        spec.compression = c;
        spec.files = {{"/bin/true", ""}};
        const auto b = build_initramfs(spec);
        INFO(b.path.string());
        const auto t = test::shell(fmt::format("bsdtar -tvf '{}'", b.path.string()));
        REQUIRE(t.status == 0);
        CHECK(t.out.find(" init\n") != std::string::npos);
        CHECK(t.out.find(" bin/sh -> busybox\n") != std::string::npos);
        // At its host path, a file rather than the applet link.
        CHECK(t.out.find(" bin/true\n") != std::string::npos);
        CHECK(t.out.find(" bin/true -> busybox") == std::string::npos);
        const char* cat = c == Compression::gzip ? "gzip -dc" : c == Compression::zstd ? "zstd -dc" : "cat";
        const auto l = test::shell(fmt::format("{} '{}' | cpio -t --quiet", cat, b.path.string()));
        REQUIRE(l.status == 0);
        CHECK(l.out.find("etc/ktstr/command\n") != std::string::npos);
    }
}

TEST_CASE("compressed modules: kept when the kernel decompresses them, else decompressed", "[builder]") {
    const auto k = test::default_kernel();
    test::TempDir d{"initramfs"};
    // A 6.12-style tree: .ko.xz modules.
    const auto dir = d.path() / "lib/modules/9.0.0-test";
    for (const char* name : {"irqbypass", "kvm", "kvm-amd"}) {
        const auto src = *ModuleTree(*k.modules_dir).find(name);
        const auto dst = dir / src.lexically_relative(*k.modules_dir);
        fs::create_directories(dst.parent_path());
        fs::copy_file(src, dst);
        REQUIRE(test::shell(fmt::format("xz -C crc32 '{}'", dst.string())).status == 0);
    }
    const auto decompressing = d.write("config-decompress",
                                       "CONFIG_RD_GZIP=y\nCONFIG_MODULE_DECOMPRESS=y\nCONFIG_MODULE_COMPRESS_XZ=y\n");
    const auto plain = d.write("config-plain", "CONFIG_RD_GZIP=y\n# CONFIG_MODULE_DECOMPRESS is not set\n");
    const auto zstd_only = d.write("config-zstd",
                                   "CONFIG_RD_GZIP=y\nCONFIG_MODULE_DECOMPRESS=y\nCONFIG_MODULE_COMPRESS_ZSTD=y\n");
    CacheHere cache(d.path() / "cache");

    auto spec = base_spec();
    spec.modules_dir = dir;
    spec.modules = {{"kvm_amd", ""}};

    spec.kernel_config = decompressing;
    auto b = build_initramfs(spec);
    auto e = entries_of(b.path);
    REQUIRE(b.plan.modules.size() == 3);
    for (const auto& m : b.plan.modules) {
        CHECK(m.compressed);
        CHECK(m.guest_path.ends_with(".ko.xz"));
        CHECK(e.at(m.guest_path.substr(1)).data == read_bytes(m.module.file));
    }
    CHECK(e.at("etc/ktstr/modules").text().find("kvm-amd.ko.xz\n") != std::string::npos);

    // A kernel without module decompression, one that decompresses only
    // zstd, and no config at all: the image holds plain .ko files.
    for (auto config : {std::optional<fs::path>(plain), std::optional<fs::path>(zstd_only), std::optional<fs::path>()}) {
        spec.kernel_config = config;
        b = build_initramfs(spec);
        e = entries_of(b.path);
        REQUIRE(b.plan.modules.size() == 3);
        for (const auto& m : b.plan.modules) {
            CHECK_FALSE(m.compressed);
            CHECK(m.guest_path.ends_with(".ko"));
            const auto& data = e.at(m.guest_path.substr(1)).data;
            CHECK(data == read_module_file(m.module.file));
            CHECK(parse_module_info(data).name == m.module.name);
        }
    }
}

TEST_CASE("bad specs are refused before anything is written", "[builder]") {
    test::TempDir d{"initramfs"};
    CacheHere cache(d.path() / "cache");
    auto spec = base_spec();
    spec.command = {};
    CHECK_THROWS_AS(plan_initramfs(spec), std::invalid_argument);
    spec = base_spec();
    spec.environment = {"=x"};
    CHECK_THROWS_AS(plan_initramfs(spec), std::invalid_argument);
    spec = base_spec();
    spec.files = {{"/bin/true", "/bin/busybox"}};  // collides with busybox itself
    CHECK_THROWS_WITH(plan_initramfs(spec), Catch::Contains("/bin/busybox given twice"));
    spec = base_spec();
    spec.files = {{"/bin/true", "/init/x"}};  // under a file
    CHECK_THROWS_WITH(plan_initramfs(spec), Catch::Contains("not a directory"));
    spec = base_spec();
    spec.files = {{"/bin/true", "relative/path"}};
    CHECK_THROWS_AS(plan_initramfs(spec), std::invalid_argument);
    spec = base_spec();
    spec.modules = {{"kvm", ""}};
    CHECK_THROWS_WITH(plan_initramfs(spec), Catch::Contains("without a modules directory"));
    spec = base_spec();
    spec.compression = Compression::zstd;
    spec.kernel_config = d.write("config", "CONFIG_RD_GZIP=y\n");
    CHECK_THROWS_WITH(plan_initramfs(spec), Catch::Contains("CONFIG_RD_ZSTD"));
    spec = base_spec();
    spec.init = d.path() / "missing";
    CHECK_THROWS(plan_initramfs(spec));
    // The same host file at one path twice is fine (a shared library).
    spec = base_spec();
    spec.files = {{"/bin/true", "/t"}, {"/bin/true", "/t"}};
    CHECK_NOTHROW(plan_initramfs(spec));
    spec = base_spec();
    spec.scheduler = {"", "-e"};
    CHECK_THROWS_WITH(plan_initramfs(spec), Catch::Contains("no scheduler to record"));
    CHECK_FALSE((fs::exists(d.path() / "cache/ktstr/initramfs") && !fs::is_empty(d.path() / "cache/ktstr/initramfs")));
}

TEST_CASE("a scheduler is recorded in /etc/ktstr/scheduler, its arguments NUL-terminated", "[builder]") {
    test::TempDir d{"initramfs"};
    CacheHere cache(d.path() / "cache");
    auto spec = base_spec();
    spec.files = {{"/bin/true", "/usr/libexec/ktstr/schedulers/scx_true"}};
    spec.scheduler = {"/usr/libexec/ktstr/schedulers/scx_true", "-e", "100"};
    const auto e = entries_of(build_initramfs(spec).path);
    CHECK(e.at("etc/ktstr/scheduler").text() == std::string("/usr/libexec/ktstr/schedulers/scx_true\0-e\0" "100\0", 46));
    CHECK(e.at("usr/libexec/ktstr/schedulers/scx_true").is_file());
}

TEST_CASE("placements: HOST, HOST:GUEST, and colons in HOST", "[builder]") {
    auto p = parse_placement("/bin/true");
    CHECK(p.host == "/bin/true");
    CHECK(p.guest.empty());
    p = parse_placement("/bin/true:/usr/bin/t");
    CHECK(p.host == "/bin/true");
    CHECK(p.guest == "/usr/bin/t");
    p = parse_placement("a:b:/g");
    CHECK(p.host == "a:b");
    CHECK(p.guest == "/g");
    p = parse_placement("weird:name");
    CHECK(p.host == "weird:name");
    CHECK(p.guest.empty());
    CHECK_THROWS_AS(parse_placement(":/g"), std::invalid_argument);
}

TEST_CASE("guest programs: KTSTR_GUEST_BIN_DIR first, busybox applets", "[builder]") {
    test::TempDir d{"initramfs"};
    const auto fake = d.write("ktstr-init", "#!/bin/sh\n");
    fs::permissions(fake, fs::perms::owner_all);
    ::setenv(guest_bin_dir_variable, d.path().c_str(), 1);
    CHECK(guest_program("ktstr-init") == fake);
    CHECK(guest_program_candidates("ktstr-selftest").front() == d.path() / "ktstr-selftest");
    ::unsetenv(guest_bin_dir_variable);
    const auto c = guest_program_candidates("ktstr-init");
    REQUIRE(c.size() == 2);
    CHECK(c[0].filename() == "ktstr-init");
    CHECK(c[0].parent_path().filename() == "init");
    CHECK(c[1].parent_path().filename() == "ktstr");

    const auto applets = busybox_applets(default_busybox);
    CHECK(applets.size() > 100);
    CHECK(std::find(applets.begin(), applets.end(), "init") == applets.end());
    CHECK_THROWS_WITH(busybox_applets("/bin/true"), Catch::Contains("applet"));
    CHECK_THROWS(busybox_applets(d.path() / "nope"));
}

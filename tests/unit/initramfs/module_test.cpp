// Module load order from .modinfo, on Debian's real modules (the default
// kernel) and on synthetic ones for what Debian's do not have.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <set>

#include <fmt/core.h>

#include "default_kernel.hpp"
#include "initramfs/module_info.hpp"
#include "initramfs/module_order.hpp"
#include "initramfs/module_tree.hpp"
#include "ktstr/test/shell_command.hpp"
#include "ktstr/test/temp_dir.hpp"
#include "synthetic_module.hpp"

namespace fs = std::filesystem;
using namespace ktstr;
using namespace ktstr::vmm::initramfs;

namespace {

std::vector<std::string> names(const ModuleOrder& o) {
    std::vector<std::string> out;
    for (const auto& m : o.load_order)
        out.push_back(m.name);
    return out;
}

// Every module comes after each module it depends on.
void check_dependencies_first(const ModuleOrder& o) {
    std::set<std::string> loaded;
    for (const auto& m : o.load_order) {
        for (const auto& dep : parse_module_info(read_module_file(m.file)).depends) {
            INFO(m.name << " needs " << dep);
            CHECK(loaded.contains(dep));
        }
        loaded.insert(m.name);
    }
}

void write_bytes(const fs::path& p, const byte_buffer& b) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

TEST_CASE("kvm-amd on Debian's kernel loads after kvm, which loads after irqbypass", "[module]") {
    const auto k = test::default_kernel();
    ModuleTree tree(*k.modules_dir);
    CHECK(tree.size() > 100);
    const auto kvm_amd = parse_module_info(read_module_file(*tree.find("kvm-amd")));
    CHECK(kvm_amd.name == "kvm_amd");
    CHECK(kvm_amd.depends == std::vector<std::string>{"kvm"});

    auto o = order_modules(&tree, {{"kvm-amd", ""}});
    CHECK(names(o) == std::vector<std::string>{"irqbypass", "kvm", "kvm_amd"});
    check_dependencies_first(o);
    CHECK(o.load_order[2].file.filename() == "kvm-amd.ko");

    // kvm_intel shares kvm and irqbypass: each once.
    o = order_modules(&tree, {{"kvm_amd", "nested=1"}, {"kvm-intel", ""}, {"kvm", ""}});
    CHECK(names(o) == std::vector<std::string>{"irqbypass", "kvm", "kvm_amd", "kvm_intel"});
    CHECK(o.load_order[2].params == "nested=1");
}

TEST_CASE("virtio_console on Debian's kernel brings what it depends on", "[module]") {
    const auto k = test::default_kernel();
    ModuleTree tree(*k.modules_dir);
    auto o = order_modules(&tree, {{"virtio_console", ""}, {"virtio_mmio", ""}});
    const auto n = names(o);
    REQUIRE_FALSE(n.empty());
    check_dependencies_first(o);
    CHECK(std::count(n.begin(), n.end(), "virtio_console") == 1);
    // In the 6.1 cloud kernel virtio and virtio_ring are modules too; in
    // a kernel that builds them in they are not listed at all.
    for (const auto& dep : parse_module_info(read_module_file(*tree.find("virtio_console"))).depends)
        CHECK((std::find(n.begin(), n.end(), dep) != n.end() || tree.is_builtin(dep)));
    CHECK(n.back() == "virtio_mmio");
}

TEST_CASE("compressed modules (.ko.xz, .ko.zst, .ko.gz) order the same as plain ones", "[module]") {
    const auto k = test::default_kernel();
    ModuleTree real(*k.modules_dir);
    test::TempDir d{"initramfs"};
    const auto dir = d.path() / k.release;
    // A tree like 6.12's: each module compressed with the kernel's flags.
    const std::vector<std::pair<std::string, std::string>> pick = {
        {"irqbypass", "xz -C crc32"}, {"kvm", "zstd -q --rm"}, {"kvm_amd", "gzip"}};
    for (const auto& [name, tool] : pick) {
        const auto src = *real.find(name);
        const auto dst = dir / src.lexically_relative(*k.modules_dir);
        fs::create_directories(dst.parent_path());
        fs::copy_file(src, dst);
        REQUIRE(test::shell(fmt::format("{} '{}'", tool, dst.string())).status == 0);
        CHECK_FALSE(fs::exists(dst));
    }
    ModuleTree tree(dir);
    CHECK(tree.size() == 3);
    CHECK(tree.find("kvm-amd")->filename() == "kvm-amd.ko.gz");
    CHECK(tree.find("irqbypass")->filename() == "irqbypass.ko.xz");
    const auto o = order_modules(&tree, {{"kvm-amd", ""}});
    CHECK(names(o) == std::vector<std::string>{"irqbypass", "kvm", "kvm_amd"});
    // The decompressed bytes are the original module.
    const auto plain = read_module_file(*real.find("kvm"));
    CHECK(read_module_file(*tree.find("kvm")) == plain);
}

TEST_CASE("a module given by path, built-in modules, and a missing one", "[module]") {
    test::TempDir d{"initramfs"};
    const auto dir = d.path() / "lib/modules/9.9.9";
    write_bytes(dir / "kernel/a.ko", test::synthetic_module(test::modinfo_of("a", "b,builtin-one")));
    write_bytes(dir / "kernel/sub/b.ko", test::synthetic_module(test::modinfo_of("b", "")));
    write_bytes(d.path() / "elsewhere/c-mod.ko", test::synthetic_module(test::modinfo_of("c_mod", "a")));
    std::ofstream(dir / "modules.builtin") << "kernel/drivers/builtin-one.ko\nkernel/x/virtio_console.ko\n";
    ModuleTree tree(dir);
    CHECK(tree.release() == "9.9.9");
    CHECK(tree.is_builtin("builtin_one"));

    auto o = order_modules(&tree, {{(d.path() / "elsewhere/c-mod.ko").string(), "p=1"}, {"virtio-console", ""}});
    CHECK(names(o) == std::vector<std::string>{"b", "a", "c_mod"});
    CHECK(o.load_order[2].params == "p=1");
    CHECK(o.builtin == std::vector<std::string>{"builtin_one", "virtio_console"});

    CHECK_THROWS_WITH(order_modules(&tree, {{"nope", ""}}), Catch::Contains("module nope: not in"));
    write_bytes(dir / "kernel/e.ko", test::synthetic_module(test::modinfo_of("e", "missing")));
    ModuleTree tree2(dir);
    CHECK_THROWS_WITH(order_modules(&tree2, {{"e", ""}}), Catch::Contains("missing (needed by e)"));
    CHECK_THROWS_WITH(order_modules(&tree, {{"a", "x=1"}, {"a", "x=2"}}), Catch::Contains("parameters"));
    CHECK_THROWS_WITH(order_modules(nullptr, {{"a", ""}}), Catch::Contains("no modules directory"));
    CHECK_THROWS_AS(ModuleTree(d.path() / "no-such-dir"), ModuleError);
}

TEST_CASE("dependency cycles and endless chains are refused", "[module]") {
    test::TempDir d{"initramfs"};
    const auto dir = d.path() / "mods";
    write_bytes(dir / "x.ko", test::synthetic_module(test::modinfo_of("x", "y")));
    write_bytes(dir / "y.ko", test::synthetic_module(test::modinfo_of("y", "z")));
    write_bytes(dir / "z.ko", test::synthetic_module(test::modinfo_of("z", "x")));
    for (std::size_t i = 0; i < max_module_depth + 5; ++i)
        write_bytes(dir / fmt::format("c{}.ko", i),
                    test::synthetic_module(test::modinfo_of(fmt::format("c{}", i), fmt::format("c{}", i + 1))));
    write_bytes(dir / fmt::format("c{}.ko", max_module_depth + 5), test::synthetic_module(test::modinfo_of("end", "")));
    ModuleTree tree(dir);
    CHECK_THROWS_WITH(order_modules(&tree, {{"x", ""}}), Catch::Contains("cycle"));
    CHECK_THROWS_WITH(order_modules(&tree, {{"c0", ""}}), Catch::Contains("deeper"));
    const auto last = fmt::format("c{}", max_module_depth + 4), end = fmt::format("c{}", max_module_depth + 5);
    CHECK(names(order_modules(&tree, {{last, ""}})) == std::vector<std::string>{end, last});
}

TEST_CASE("module files that are not modules give a clear error", "[module]") {
    CHECK_THROWS_WITH(parse_module_info(byte_buffer(10)), Catch::Contains("too short"));
    CHECK_THROWS_WITH(parse_module_info(byte_buffer(64)), Catch::Contains("not an ELF"));
    auto m = test::synthetic_module(test::modinfo_of("a", ""));
    auto bad = m;
    bad[0x28] = 0xff;  // e_shoff far outside
    bad[0x2f] = 0x7f;
    CHECK_THROWS_WITH(parse_module_info(bad), Catch::Contains("section table outside"));
    bad = m;
    bad[0x3e] = 9;  // e_shstrndx beyond e_shnum
    CHECK_THROWS_WITH(parse_module_info(bad), Catch::Contains("index"));
    // The .modinfo section header pointing past the end.
    bad = m;
    const auto shoff = m.size() - 3 * sizeof(Elf64_Shdr);
    bad[shoff + sizeof(Elf64_Shdr) + 0x18 + 3] = 0x40;  // sh_offset of section 1
    CHECK_THROWS_WITH(parse_module_info(bad), Catch::Contains(".modinfo outside"));
    // A relocatable object without .modinfo.
    auto no_info = m;
    no_info[m.size() - 3 * sizeof(Elf64_Shdr) + sizeof(Elf64_Shdr)] = 10;  // section 1 named ".shstrtab"
    CHECK_THROWS_WITH(parse_module_info(no_info), Catch::Contains("no .modinfo"));
    CHECK(parse_module_info(m).name == "a");
    test::TempDir d{"initramfs"};
    const auto f = d.write("x.ko.xz", "not xz at all");
    CHECK_THROWS_AS(read_module_file(f), ModuleError);
}

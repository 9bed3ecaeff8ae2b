// Kconfig fragments as ktstr writes them: trailing comments, =n, quoted
// strings; written back in the syntax Kconfig's .config reader takes.
#include <catch2/catch.hpp>

#include <algorithm>

#include "kernel_build/builtin_fragments.hpp"
#include "kernel_build/config_fragment.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr::vmm::kernel_build;
using ktstr::test::TempDir;

TEST_CASE("a fragment's options, comments stripped, =n as not set", "[kernel_build]") {
    const auto f = parse_fragment("# a header comment\n"
                                  "\n"
                                  "CONFIG_SMP=y                       # tests run on several vCPUs\n"
                                  "CONFIG_NR_CPUS=256 # room\n"
                                  "CONFIG_RANDOMIZE_BASE=n            # a fixed kernel address\n"
                                  "  CONFIG_CMDLINE=\"console=ttyS0 # not a comment\"   # but this is\n"
                                  "CONFIG_PHYSICAL_START=0x1000000\n"
                                  "# CONFIG_DEBUG_FS is not set\n"
                                  "CONFIG_KVM_GUEST=m\r\n",
                                  "test.config");
    REQUIRE(f.options.size() == 7);
    CHECK(f.source == "test.config");
    CHECK(f.options[0].name == "CONFIG_SMP");
    CHECK(f.options[0].value == "y");
    CHECK(f.options[0].line == 3);
    CHECK(f.options[1].value == "256");
    CHECK(f.options[2].value == "n");
    CHECK(f.options[3].value == "\"console=ttyS0 # not a comment\"");
    CHECK(f.options[4].value == "0x1000000");
    CHECK(f.options[5].name == "CONFIG_DEBUG_FS");
    CHECK(f.options[5].value == "n");
    CHECK(f.options[6].value == "m");
    CHECK(normalised(f) ==
          "CONFIG_SMP=y\nCONFIG_NR_CPUS=256\n# CONFIG_RANDOMIZE_BASE is not set\n"
          "CONFIG_CMDLINE=\"console=ttyS0 # not a comment\"\nCONFIG_PHYSICAL_START=0x1000000\n"
          "# CONFIG_DEBUG_FS is not set\nCONFIG_KVM_GUEST=m\n");
}

TEST_CASE("a fragment line that is not an option is refused with file and line", "[kernel_build]") {
    CHECK_THROWS_WITH(parse_fragment("CONFIG_A=y\nSMP=y\n", "f"), Catch::StartsWith("f:2: 'SMP' is not an option name"));
    CHECK_THROWS_WITH(parse_fragment("CONFIG_A\n", "f"), Catch::StartsWith("f:1: expected CONFIG_NAME=VALUE"));
    CHECK_THROWS_WITH(parse_fragment("CONFIG_A=   # nothing\n", "f"), Catch::Contains("CONFIG_A has no value"));
    CHECK_THROWS_WITH(parse_fragment("CONFIG_A=yes\n", "f"), Catch::Contains("CONFIG_A=yes: not a value"));
    CHECK_THROWS_WITH(parse_fragment("CONFIG_A=\"open\n", "f"), Catch::Contains("unterminated string"));
    CHECK_THROWS_WITH(parse_fragment("CONFIG_A-B=y\n", "f"), Catch::Contains("not an option name"));
    CHECK_THROWS_AS(parse_fragment("x\n", "f"), BadBuildInput);  // the CLI's exit 2
    CHECK(parse_fragment("", "empty").options.empty());
}

TEST_CASE("read_fragment names the file it cannot read", "[kernel_build]") {
    TempDir d{"kbuild"};
    CHECK_THROWS_WITH(read_fragment(d.path() / "nope.config"), Catch::Contains("nope.config: no such file"));
    CHECK_THROWS_WITH(read_fragment(d.path()), Catch::Contains("no such file"));  // a directory
    const auto f = read_fragment(d.write("usb.config", "CONFIG_USB_STORAGE=y\n"));
    REQUIRE(f.options.size() == 1);
    CHECK(f.source == (d.path() / "usb.config").string());
}

TEST_CASE("the built-in fragments parse and hold what sched_ext needs", "[kernel_build]") {
    const auto all = builtin_fragments();
    REQUIRE(all.size() == 2);
    CHECK(all[0].name == "lean-vm.config");
    CHECK(all[1].name == "sched-ext.config");
    const auto lean = parse_fragment(all[0].text, std::string(all[0].name));
    const auto scx = parse_fragment(all[1].text, std::string(all[1].name));
    CHECK(lean.options.size() > 50);
    auto asks = [](const ConfigFragment& f, const std::string& name, const std::string& value) {
        return std::any_of(f.options.begin(), f.options.end(),
                           [&](const FragmentOption& o) { return o.name == name && o.value == value; });
    };
    CHECK(asks(scx, "CONFIG_SCHED_CLASS_EXT", "y"));
    CHECK(asks(scx, "CONFIG_DEBUG_INFO_BTF", "y"));
    CHECK(asks(lean, "CONFIG_RANDOMIZE_BASE", "n"));
    CHECK(asks(lean, "CONFIG_VIRTIO_CONSOLE", "y"));
    // The text is the file's, byte for byte (its non-ASCII "µs" included).
    CHECK(all[0].text.find("µs resolution") != std::string_view::npos);
}

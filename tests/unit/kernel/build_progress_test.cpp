// Reading make's output into a phase and a count of compiled objects.
#include <catch2/catch.hpp>

#include "kernel_build/build_progress.hpp"

using namespace ktstr::vmm::kernel_build;

TEST_CASE("Kbuild step lines and everything else", "[kernel_build]") {
    auto cc = parse_kbuild_line("  CC      kernel/fork.o");
    REQUIRE(cc);
    CHECK(cc->tag == "CC");
    CHECK(cc->target == "kernel/fork.o");
    auto bpf = parse_kbuild_line("  CLNG-BPF scx_simple.bpf.o");
    REQUIRE(bpf);
    CHECK(bpf->tag == "CLNG-BPF");
    auto mod = parse_kbuild_line("  CC [M]  fs/fat/inode.o");
    REQUIRE(mod);
    CHECK(mod->target == "fs/fat/inode.o");
    CHECK_FALSE(parse_kbuild_line("kernel/fork.c:12:1: error: expected ';'"));
    CHECK_FALSE(parse_kbuild_line("  123 |   int x"));  // a compiler's source excerpt
    CHECK_FALSE(parse_kbuild_line("   |   ^~~~"));
    CHECK_FALSE(parse_kbuild_line("make[2]: *** [scripts/Makefile.build:229: kernel/fork.o] Error 1"));
    CHECK_FALSE(parse_kbuild_line("  CC"));
    CHECK_FALSE(parse_kbuild_line(""));
}

TEST_CASE("objects are counted and the link of vmlinux starts the link phase", "[kernel_build]") {
    MakeProgress p(Phase::compile);
    CHECK(p.feed("  HOSTCC  scripts/basic/fixdep"));
    CHECK(p.feed("  CC      init/main.o"));
    CHECK(p.feed("  AS      arch/x86/entry/entry_64.o"));
    CHECK_FALSE(p.feed("  AR      init/built-in.a"));
    CHECK_FALSE(p.feed("  LD      arch/x86/realmode/rm/realmode.elf"));  // not vmlinux
    CHECK_FALSE(p.feed("init/main.c:5:2: warning: unused"));
    CHECK(p.objects() == 3);
    CHECK(p.phase() == Phase::compile);
    CHECK(p.feed("  LD      vmlinux.o"));
    CHECK(p.phase() == Phase::link);
    CHECK_FALSE(p.feed("  LD      .tmp_vmlinux1"));  // already linking
    CHECK(p.feed("  CC      arch/x86/boot/compressed/misc.o"));
    CHECK(p.phase() == Phase::link);  // only forward
    CHECK(p.objects() == 4);

    MakeProgress s(Phase::schedulers);
    s.feed("  CLNG-BPF scx_qmap.bpf.o");
    s.feed("  LINK    /tmp/x/build/obj/bpftool/bpftool");
    s.feed("  LD      vmlinux");  // never leaves its phase unless compiling
    CHECK(s.objects() == 1);
    CHECK(s.phase() == Phase::schedulers);
}

TEST_CASE("durations and the progress line", "[kernel_build]") {
    CHECK(format_duration(0) == "0s");
    CHECK(format_duration(59.9) == "59s");
    CHECK(format_duration(243) == "4m03s");
    CHECK(format_duration(3725) == "1h02m05s");
    CHECK(format_duration(-3) == "0s");
    CHECK(progress_text(Phase::compile, "5321 objects", 243.5) ==
          "ktstr-vmm: kernel build: compile: 5321 objects (4m03s)");
    CHECK(progress_text(Phase::install, "", 1) == "ktstr-vmm: kernel build: install (1s)");
    CHECK(phase_name(Phase::schedulers) == "schedulers");
}

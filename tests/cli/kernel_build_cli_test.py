#!/usr/bin/env python3
"""`ktstr-vmm kernel build` end to end in seconds, against a fake kernel tree
(--source) whose Makefiles stand in for Kbuild and tools/sched_ext: what
the command does around make (config check, install layout, links,
build.json, cache hits, --name, two builds at once, a failing make, a
rejected option), in a temporary cache. The real build is
tests/kernel_build (label kernel-build)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks  # noqa: E402

vmm = sys.argv[1]
check = Checks()

# Kbuild's targets as `kernel build` calls them (make -C SRC O=OBJ ...).
# olddefconfig keeps what the fragments appended, but drops USB_STORAGE
# (as Kconfig would without USB); bzImage fails with a compiler-style error
# when a fragment asks for CONFIG_FAKE_FAIL.
KBUILD = r"""VERSION = 6
PATCHLEVEL = 12
SUBLEVEL = 0
EXTRAVERSION =
NAME = Fake

tinyconfig:
	@echo "  HOSTCC  scripts/kconfig/conf.o"
	@printf '#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_CC_VERSION_TEXT="fake"\n' > $(O)/.config
olddefconfig:
	@sed -i '/CONFIG_USB_STORAGE/d' $(O)/.config
kernelrelease:
	@echo 6.12.0$(LOCALVERSION)
bzImage:
	@echo "  CC      init/main.o"
	@echo "  CC      kernel/fork.o"
	@if grep -q CONFIG_FAKE_FAIL=y $(O)/.config; then echo "kernel/fork.c:1:1: error: fake failure"; exit 2; fi
	@sleep 1
	@echo "  LD      vmlinux.o"
	@mkdir -p $(O)/arch/x86/boot
	@echo bzimage > $(O)/arch/x86/boot/bzImage
	@echo "ffffffff81000000 T _text" > $(O)/System.map
	@echo vmlinux > $(O)/vmlinux
"""
SCHED_EXT = r"""all:
	@test -f "$(VMLINUX_BTF)"
	@mkdir -p $(O)/build/bin
	@for s in scx_simple scx_qmap scx_central scx_flatcg; do printf '\177ELF' > $(O)/build/bin/$$s; chmod +x $(O)/build/bin/$$s; done
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def build(*args, env):
    return subprocess.run([vmm, "kernel", "build", *args], capture_output=True, text=True, timeout=120, env=env)


with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "linux")
    write(os.path.join(src, "Makefile"), KBUILD)
    write(os.path.join(src, "Kconfig"), "mainmenu \"fake\"\n")
    write(os.path.join(src, "arch", "x86", "Kconfig"), "")
    write(os.path.join(src, "tools", "sched_ext", "Makefile"), SCHED_EXT)
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "cache"))
    kernels = os.path.join(tmp, "cache", "ktstr", "kernels")

    r = build("--source", src, env=env)
    check(r.returncode == 0, f"a build exits 0 ({r.returncode}, {r.stderr.strip()!r})")
    path = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    release = os.path.basename(path)[len("vmlinuz-"):]
    check(release.startswith("6.12.0-ktstr-") and len(release) == len("6.12.0-ktstr-") + 12,
          f"the release carries the key ({release})")
    tree = os.path.join(kernels, release)
    check(path == os.path.join(tree, "boot", f"vmlinuz-{release}") and os.path.isfile(path), "bzImage installed")
    with open(os.path.join(tree, "boot", f"config-{release}")) as f:
        config = f.read()
    check("CONFIG_SCHED_CLASS_EXT=y\n" in config and "# CONFIG_RANDOMIZE_BASE is not set\n" in config,
          "config: the fragments in .config syntax (=n as 'is not set')")
    check("#" not in "".join(l.split("=", 1)[1] for l in config.splitlines() if l.startswith("CONFIG_")),
          "config: no trailing comments reached Kconfig")
    check(os.path.isfile(os.path.join(tree, "boot", f"System.map-{release}")), "System.map installed")
    check(sorted(os.listdir(os.path.join(tree, "ktstr", "schedulers"))) ==
          ["scx_central", "scx_flatcg", "scx_qmap", "scx_simple"], "four schedulers installed")
    check(os.access(os.path.join(tree, "ktstr", "schedulers", "scx_simple"), os.X_OK), "... executable")
    with open(os.path.join(tree, "ktstr", "build.json")) as f:
        record = json.load(f)
    check(record["source"] == os.path.realpath(src) and record["source_identity"].startswith("tree 6.12.0 files "),
          "build.json: the source and its identity")
    check(record["objects"] == 2 and [p for p in record["seconds"]] ==
          ["source", "config", "compile", "link", "schedulers", "install"], "build.json: objects and phases")
    with open(os.path.join(tree, "ktstr", "build.log")) as f:
        check("  CC      kernel/fork.o" in f.read(), "build.log holds make's output")
    check(os.readlink(os.path.join(kernels, "sched-ext")) == release, "sched-ext points at it")
    check("built " + release in r.stderr and "compile" in r.stderr, "says what it built, with the phases' times")
    check(not [e for e in os.listdir(kernels) if e.startswith(".build-")], "no build folder left")

    again = build("--source", src, "--name", "fake", env=env)
    check(again.returncode == 0 and "already built" in again.stderr and
          again.stdout.strip().splitlines()[-1] == path, f"the same build again is a hit ({again.stderr.strip()!r})")
    check("config" not in again.stderr, "... found by its recipe, without configuring")
    check(os.readlink(os.path.join(kernels, "fake")) == release, "--name links the name")
    p = subprocess.run([vmm, "kernel", "path", "--kernel", "fake"], capture_output=True, text=True, env=env)
    check(p.returncode == 0 and p.stdout.strip() == path, "kernel path --kernel NAME")

    # A comment-only fragment is the same recipe; a new option is a new kernel.
    same = os.path.join(tmp, "same.config")
    write(same, "# nothing but a comment\n")
    r = build("--source", src, "--kconfig", same, env=env)
    check(r.returncode == 0 and "already built" in r.stderr, "a fragment of comments changes nothing")

    # Two builds of one new key at once: one builds, the other waits for it.
    extra = os.path.join(tmp, "extra.config")
    write(extra, "CONFIG_EXTRA=y   # a new option: a new key\n")
    procs = [subprocess.Popen([vmm, "kernel", "build", "--source", src, "--kconfig", extra], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    check([p.returncode for p in procs] == [0, 0], f"two builds at once both succeed ({[e for _, e in outs]})")
    check(sum("already built" in e for _, e in outs) == 1 and sum(" built 6.12.0-ktstr-" in e for _, e in outs) == 1,
          "exactly one of them built")
    paths = {o.strip().splitlines()[-1] for o, _ in outs}
    check(len(paths) == 1 and paths != {path}, "both print the new kernel")
    check(os.readlink(os.path.join(kernels, "sched-ext")) == os.path.basename(os.path.dirname(os.path.dirname(
        paths.pop()))), "sched-ext follows the last build")

    # An option olddefconfig drops: named, exit 2, nothing compiled.
    usb = os.path.join(tmp, "usb.config")
    write(usb, "CONFIG_USB_STORAGE=y\n")
    before = set(os.listdir(kernels))
    r = build("--source", src, "--kconfig", usb, env=env)
    lines = [l for l in r.stderr.splitlines() if not l.startswith("ktstr-vmm: kernel build: ")]
    check(r.returncode == 2 and lines == ["ktstr-vmm: CONFIG_USB_STORAGE=y did not survive olddefconfig (now: not set)"],
          f"a dropped option: one line, exit 2 ({r.returncode}, {lines})")
    check("compile" not in r.stderr and set(os.listdir(kernels)) == before, "... nothing compiled or kept")

    # A failing make: its error lines, one summary with the kept log, exit 1.
    fail = os.path.join(tmp, "fail.config")
    write(fail, "CONFIG_FAKE_FAIL=y\n")
    r = build("--source", src, "--kconfig", fail, env=env)
    err = r.stderr.splitlines()
    check(r.returncode == 1, f"a failing make exits 1 ({r.returncode})")
    check("  kernel/fork.c:1:1: error: fake failure" in err, "its error line is shown")
    summary = [l for l in err if l.startswith("ktstr-vmm: error: ")]
    log = summary[0].rsplit("; log: ", 1)[1] if len(summary) == 1 and "; log: " in summary[0] else ""
    check(len(summary) == 1 and "failed in compile (make exited 2)" in summary[0], f"one summary line ({summary})")
    check(log.startswith(os.path.join(kernels, ".failed", "")) and os.path.isfile(log), f"the log is kept ({log})")
    check(set(os.listdir(kernels)) - before == {".failed"}, "nothing half-made in the cache, only the log")
    check(not [e for e in os.listdir(kernels) if e.startswith(".build-")], "no build folder left")

    lst = subprocess.run([vmm, "kernel", "list"], capture_output=True, text=True, env=env)
    check(lst.returncode == 0 and len(lst.stdout.splitlines()) == 2 and "(fake; key " in lst.stdout,
          f"kernel list shows both builds and their names ({lst.stdout!r})")

check.finish()

#!/usr/bin/env python3
"""The default `ktstr-vmm kernel build`, for real (a cache hit when already
built), and what it leaves in the cache: the bzImage, its config with
sched_ext, System.map, the four schedulers, build.json; `sched-ext` naming
it; a second build a quick cache hit; --name adding a link."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks  # noqa: E402

vmm = sys.argv[1]
check = Checks()
schedulers = ["scx_simple", "scx_qmap", "scx_central", "scx_flatcg"]


def kernel(*args, timeout=1790):
    return subprocess.run([vmm, "kernel", *args], capture_output=True, text=True, timeout=timeout)


start = time.monotonic()
r = kernel("build")
took = time.monotonic() - start
print(r.stderr, end="")
check(r.returncode == 0, f"kernel build exits 0 ({r.returncode})")
path = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
name = os.path.basename(path)
check(os.path.isfile(path) and name.startswith("vmlinuz-"),
      f"prints the bzImage path ({path})")
release = name[len("vmlinuz-"):]
tree = os.path.dirname(os.path.dirname(path))
kernels = os.path.dirname(tree)
check("-ktstr-" in release and os.path.basename(tree) == release, f"release {release} names its folder")
with open(path, "rb") as f:
    f.seek(0x202)
    check(f.read(4) == b"HdrS", "a bzImage (the boot protocol's HdrS)")
config = os.path.join(tree, "boot", f"config-{release}")
with open(config) as f:
    text = f.read()
check("CONFIG_SCHED_CLASS_EXT=y\n" in text, "its config has CONFIG_SCHED_CLASS_EXT=y")
check("CONFIG_DEBUG_INFO_BTF=y\n" in text, "... and CONFIG_DEBUG_INFO_BTF=y")
check("# CONFIG_MODULES is not set\n" in text, "... and no modules")
check(os.path.getsize(os.path.join(tree, "boot", f"System.map-{release}")) > 0, "System.map beside it")
for s in schedulers:
    p = os.path.join(tree, "ktstr", "schedulers", s)
    ok = os.path.isfile(p) and os.access(p, os.X_OK)
    if ok:
        with open(p, "rb") as f:
            ok = f.read(4) == b"\x7fELF"
    check(ok, f"scheduler {s} is an executable ELF file")
with open(os.path.join(tree, "ktstr", "build.json")) as f:
    record = json.load(f)
check(record["release"] == release and len(record["key"]) == 64 and release.endswith(record["key"][:12]),
      "build.json: release and key")
check([f["name"] for f in record["fragments"]][:2] == ["lean-vm.config", "sched-ext.config"],
      "build.json: the built-in fragments")
print("build.json seconds:", record["seconds"], "objects:", record["objects"])
check(os.path.getsize(os.path.join(tree, "ktstr", "build.log")) > 0, "build.log kept")
check(os.readlink(os.path.join(kernels, "sched-ext")) == release, "kernels/sched-ext points at it")
p = kernel("path", "--kernel", "sched-ext")
check(p.returncode == 0 and p.stdout.strip().splitlines()[-1] == path, "kernel path --kernel sched-ext prints it")
lst = kernel("list")
line = next((l for l in lst.stdout.splitlines() if l.startswith(release + "\t")), "")
check("sched-ext" in line and "4 schedulers" in line and record["key"][:12] in line,
      f"kernel list shows it with its name, key and schedulers ({line!r})")
check(not [e for e in os.listdir(kernels) if e.startswith(".build-")], "no build folder left behind")

# Again: the recipe is found, nothing is configured or compiled.
start = time.monotonic()
again = kernel("build", "--name", "ktstr-build-test", timeout=300)
quick = time.monotonic() - start
check(again.returncode == 0 and "already built" in again.stderr and again.stdout.strip().splitlines()[-1] == path,
      f"a second build is a cache hit ({again.stderr.strip()!r})")
check(quick < 10, f"... in seconds ({quick:.1f} s)")
check(os.readlink(os.path.join(kernels, "ktstr-build-test")) == release, "--name links the name to it")
p = kernel("path", "--kernel", "ktstr-build-test")
check(p.returncode == 0 and p.stdout.strip().splitlines()[-1] == path, "kernel path --kernel NAME prints it")
os.unlink(os.path.join(kernels, "ktstr-build-test"))
print(f"first build took {took:.0f} s, the second {quick:.2f} s")

check.finish()

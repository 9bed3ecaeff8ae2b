#!/usr/bin/env python3
"""`kernel build --kconfig F` where F asks for an option whose dependencies
the lean base leaves off (USB_STORAGE needs USB and SCSI): the option is
named in one line, the exit status is 2, and nothing was compiled or left
in the cache. Real source (Debian's, from the cache), config phase only."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks  # noqa: E402

vmm = sys.argv[1]
check = Checks()
cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
kernels = os.path.join(cache, "ktstr", "kernels")


def entries():
    return set(os.listdir(kernels)) if os.path.isdir(kernels) else set()


with tempfile.TemporaryDirectory() as tmp:
    fragment = os.path.join(tmp, "usb.config")
    with open(fragment, "w") as f:
        f.write("CONFIG_USB_STORAGE=y   # needs USB and SCSI, both off in the lean base\n"
                "CONFIG_SMP=y           # kept: no line for it\n")
    before = entries()
    start = time.monotonic()
    r = subprocess.run([vmm, "kernel", "build", "--kconfig", fragment], capture_output=True, text=True, timeout=880)
    took = time.monotonic() - start
    print(r.stderr, end="")
    lines = [l for l in r.stderr.splitlines() if not l.startswith("ktstr-vmm: kernel build: ")]
    check(r.returncode == 2, f"exit 2 ({r.returncode})")
    check(lines == ["ktstr-vmm: CONFIG_USB_STORAGE=y did not survive olddefconfig (now: not set)"],
          f"one line names the option, nothing else ({lines})")
    check("kernel build: compile" not in r.stderr, "stopped before compiling")
    check(r.stdout == "", "no kernel path printed")
    after = entries()
    check(not [e for e in after - before if not e.startswith(".locks")], f"nothing new in the cache ({after - before})")
    check(not [e for e in after if e.startswith(".build-")], "no build folder left behind")
    print(f"took {took:.0f} s")

check.finish()

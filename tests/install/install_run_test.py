#!/usr/bin/env python3
"""Installs the build tree into a temporary prefix and boots guests with the
installed ktstr-vmm (--kvm auto: the emulated KVM host where /dev/kvm is
unusable), run from elsewhere with no override of where the guest programs
are: it must find them in ../libexec/ktstr (for arm64, libexec/ktstr/arm64,
where the install put the arm64 cross build; the install's programs are
looked at before the build tree's, guest_programs.hpp, unit-tested).
A boot the emulation broke is run once more, saying so (checks.run_vmm).
Usage: install_run_test.py BUILD_DIR [arm64]"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks, run_vmm  # noqa: E402

build = sys.argv[1]
arm64 = len(sys.argv) > 2 and sys.argv[2] == "arm64"
check = Checks()

with tempfile.TemporaryDirectory() as tmp:
    prefix = os.path.join(tmp, "prefix")
    r = subprocess.run(["cmake", "--install", build, "--prefix", prefix], capture_output=True, timeout=300)
    check(r.returncode == 0, f"cmake --install ({r.stderr.decode(errors='replace').strip()[-500:]})")
    programs = ["arm64/ktstr-init", "arm64/ktstr-selftest", "arm64/ktstr-vmm"] if arm64 else ["ktstr-init", "ktstr-selftest"]
    for p in programs:
        path = os.path.join(prefix, "libexec", "ktstr", p)
        check(os.path.isfile(path) and os.access(path, os.X_OK), f"installed: libexec/ktstr/{p}")
    for var in ("KTSTR_GUEST_BIN_DIR", "KTSTR_ARM64_BIN_DIR"):
        os.environ.pop(var, None)
    os.chdir(tmp)
    vmm = os.path.join(prefix, "bin", "ktstr-vmm")
    arch = ["--arch", "arm64"] if arm64 else []
    cases = [(["sh", "-c", "exit 3"], 3)] if arm64 else [(["true"], 0), (["sh", "-c", "exit 3"], 3)]
    for command, want in cases:
        r = run_vmm([vmm, "run", *arch, "--boot-timeout", "120", "--timeout", "120", "--", *command], timeout=900)
        print("--- stderr ---\n" + r.stderr.decode(errors="replace")[-3000:] + "---")
        check(r.returncode == want,
              f"installed ktstr-vmm run {' '.join(arch + ['--'] + command)}: exit {r.returncode}, {want} wanted")

check.finish()

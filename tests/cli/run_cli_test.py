#!/usr/bin/env python3
"""`ktstr-vmm run` refuses bad arguments before anything boots: exit status 2
and exactly one line on stderr saying what is wrong (docs/run.md).
Usage: run_cli_test.py KTSTR_VMM WITH_GUEST
WITH_GUEST is 1 where ktstr-init is built (the --include cases need it: the
image is assembled before an --include file is read), else 0."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks  # noqa: E402

vmm, with_guest = sys.argv[1], sys.argv[2] == "1"
check = Checks()


def refused(args, phrase):
    """Runs `ktstr-vmm run ARGS` (default --kvm auto) and checks the refusal."""
    r = subprocess.run([vmm, "run", *args], capture_output=True, timeout=120)
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    print(f"$ ktstr-vmm run {' '.join(args)}  -> exit {r.returncode}\n--- stdout ---\n{out}--- stderr ---\n{err}---")
    lines = err.splitlines()
    check(r.returncode == 2, f"{args}: exit status 2 ({r.returncode})")
    check(len(lines) == 1 and err.endswith("\n"), f"{args}: exactly one line on stderr ({len(lines)})")
    check(len(lines) >= 1 and lines[0].startswith("ktstr-vmm: ") and phrase in lines[0],
          f"{args}: the line names the problem ({phrase!r})")
    check(out == "", f"{args}: nothing on stdout")


with tempfile.TemporaryDirectory() as d:
    missing = os.path.join(d, "no-such-dir", "bzImage")
    refused(["--kernel", missing, "--", "true"], f"kernel {missing}: no such file")
    refused(["--cpus", "0", "--", "true"], "--cpus")
    # --arch (docs/arm64.md): another architecture than this machine's runs
    # only in its emulated KVM host, with flat CPUs, and its own kernel.
    refused(["--arch", "sparc", "--", "true"], "--arch")
    refused(["--arch", "arm64", "--kvm", "host", "--", "true"], "--kvm host runs x86_64 guests only")
    refused(["--arch", "arm64", "--topology", "1,1,2,1", "--", "true"], "--topology is for x86_64 guests")
    x86_kernel = subprocess.run([vmm, "kernel", "path"], capture_output=True, timeout=60).stdout.decode().strip()
    if os.path.isfile(x86_kernel):  # the default kernel, fetched (scripts/test.sh does it before the tests)
        refused(["--arch", "arm64", "--kernel", x86_kernel, "--", "true"], "is for x86_64, not arm64")
    else:
        print(f"NOTE: no default x86_64 kernel fetched ({x86_kernel!r}): the wrong-architecture kernel case is not run")
    refused(["--topology", "2,1,2", "--", "true"], "--topology: topology '2,1,2': expected 4 numbers")
    refused(["--topology", "2,x,2,2", "--", "true"], "'x' is not a decimal number")
    refused(["--topology", "2,0,2,2", "--", "true"], "every count must be at least 1")
    refused(["--topology", "1,1,255,1", "--", "true"], "255 vCPUs; at most 254")
    refused(["--topology", "2,1,3,33", "--", "true"], "needs APIC id 416; at most 254")
    refused(["--topology", "2,1,2,2", "--cpus", "4", "--", "true"],
            "--cpus 4 conflicts with --topology 2,1,2,2 (8 vCPUs)")
    refused(["--topology", "7,1,1,1", "--memory", "128", "--", "true"], "NUMA nodes less than 32 MiB")
    refused(["--memory", "256", "--shm-size", "512M", "--", "true"],
            "SHM size (512 MiB) must be smaller than guest memory (256 MiB)")
    refused(["--memory", "256", "--shm-size", "256M", "--", "true"],
            "SHM size (256 MiB) must be smaller than guest memory (256 MiB)")
    refused([], "no command given")
    nodir = os.path.join(d, "no-such-dir", "result.json")
    refused(["--json-file", nodir, "--", "true"], f"--json-file {nodir}: no directory")
    refused(["--"], "no command given")
    # --initramfs (the inner run's ready image) is mapped, not read: a
    # missing one is still a usage error naming the file.
    some_kernel = os.path.join(d, "bzImage")
    with open(some_kernel, "wb") as f:
        f.write(b"\0" * 4096)
    no_image = os.path.join(d, "no-such-image.cpio")
    refused(["--kernel", some_kernel, "--initramfs", no_image, "--", "true"], f"{no_image}: cannot open")

    if with_guest:
        absent = os.path.join(d, "absent.txt")
        refused(["--include", absent, "--", "true"], f"--include {absent}: no such file")
        # The `--` ends the options even after --include: sh's -c is the
        # command's, so the complaint is still about the file.
        refused(["--include", absent, "--", "sh", "-c", "true"], f"--include {absent}: no such file")
        # A file that exists but cannot be read. Mode 000 stops everyone but
        # root; root is stopped by a write-only sysctl (mode 0200 is enforced
        # for root in /proc/sys).
        locked = os.path.join(d, "locked.txt")
        with open(locked, "w") as f:
            f.write("secret\n")
        os.chmod(locked, 0)
        if os.access(locked, os.R_OK):
            locked = "/proc/sys/vm/drop_caches"
        if os.path.exists(locked) and not os.access(locked, os.R_OK):
            refused(["--include", locked, "--", "true"], f"{locked}: cannot read")
        else:
            check(False, "found no unreadable file to include (neither mode 000 nor /proc/sys/vm/drop_caches)")

check.finish()

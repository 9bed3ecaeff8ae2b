#!/usr/bin/env python3
"""`ktstr-vmm dtb`: writes a blob dtc accepts, with the SHM region reserved
and kept out of /memory; bad sizes give one line on stderr and exit 2.
Usage: dtb_cli_test.py KTSTR_VMM DTC"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks  # noqa: E402

vmm, dtc = sys.argv[1], sys.argv[2]
check = Checks()


def run(*args):
    return subprocess.run([vmm, "dtb", *args], capture_output=True, timeout=60)


def decompile(path):
    return subprocess.run([dtc, "-I", "dtb", "-O", "dts", "-o", "-", path], capture_output=True, timeout=60)


with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "guest.dtb")
    # (args, SHM base, SHM size, initrd present): the slot is [1 GiB, 1 GiB + memory).
    for args, base, size, initrd in [
        ([], 0x4000_0000 + (256 << 20) - (1 << 20), 1 << 20, False),
        (["--cpus", "4", "--memory", "3072", "--shm-size", "2M", "--initrd-size", "16M"],
         0x1_0000_0000 - (2 << 20), 2 << 20, True),
        (["--cpus", "17", "--memory", "3073", "--shm-size", "0x200000", "--initrd-size", "1000000"],
         0x1_0000_0000 - (1 << 20), 2 << 20, True),
        (["--memory", "3076", "--shm-size", "4MiB"], 0x1_0000_0000, 4 << 20, False),
        (["--memory", "512", "--shm-size", "4096"], 0x4000_0000 + (512 << 20) - 4096, 4096, False),
    ]:
        what = " ".join(args) or "defaults"
        r = run(*args, "-o", out)
        check(r.returncode == 0 and not r.stderr and not r.stdout, f"{what}: exit 0, silent (got {r.returncode}, {r.stderr!r})")
        dts = decompile(out)
        check(dts.returncode == 0 and not dts.stderr, f"{what}: dtc decompiles it without warnings ({dts.stderr!r})")
        text = dts.stdout.decode()
        check(f"/memreserve/\t0x{base:016x} 0x{size:016x};" in text, f"{what}: /memreserve/ is the SHM region")
        m = re.search(r"ktstr-shm@([0-9a-f]+) \{\s*reg = <([^>]*)>;\s*no-map;", text)
        check(m is not None and int(m.group(1), 16) == base, f"{what}: no-map reserved-memory node at the SHM base")
        if m:
            c = [int(x, 16) for x in m.group(2).split()]
            check((c[0] << 32 | c[1], c[2] << 32 | c[3]) == (base, size), f"{what}: reserved-memory reg is the SHM region")
        for mm in re.finditer(r"memory@[0-9a-f]+ \{\s*device_type = \"memory\";\s*reg = <([^>]*)>;", text):
            c = [int(x, 16) for x in mm.group(1).split()]
            start, length = c[0] << 32 | c[1], c[2] << 32 | c[3]
            check(start + length <= base or base + size <= start, f"{what}: /memory {start:#x}+{length:#x} misses SHM")
        check(f"KTSTR_GUEST=1 KTSTR_SHM_BASE={base:#x} KTSTR_SHM_SIZE={size:#x}" in text, f"{what}: bootargs name SHM")
        check(("linux,initrd-start" in text) == initrd, f"{what}: initrd properties iff --initrd-size")

    # --cmdline goes after the base and the KTSTR_* parameters.
    r = run("--cmdline", "quiet loglevel=7", "-o", out)
    text = decompile(out).stdout.decode()
    check(r.returncode == 0 and re.search(r'bootargs = "console=ttyS0 panic=-1 KTSTR_GUEST=1 '
                                          r'KTSTR_SHM_BASE=0x[0-9a-f]+ KTSTR_SHM_SIZE=0x100000 KTSTR_BOOT_MARK=0xb000000 '
                                          r'quiet loglevel=7";', text)
          is not None, "--cmdline is appended to the base and KTSTR_* parameters")

    # Standard output.
    r = run("-o", "-")
    check(r.returncode == 0 and r.stdout[:4] == b"\xd0\x0d\xfe\xed", "-o - writes the blob to stdout")

    # Errors: one line on stderr, exit 2, no output file.
    def bad(args, what, expect):
        if os.path.exists(out):
            os.unlink(out)
        r = run(*args)
        err = r.stderr.decode()
        check(r.returncode == 2 and err.count("\n") == 1 and err.startswith("ktstr-vmm:") and expect in err
              and not os.path.exists(out), f"{what}: exit 2 with one line (got {r.returncode}, {err!r})")

    bad(["--cpus", "0", "-o", out], "0 cpus", "cpus")
    bad(["--cpus", "513", "-o", out], "too many cpus", "redistributor")
    bad(["--cpus", "-1", "-o", out], "negative cpus", "cpus")
    bad(["--memory", "256", "--shm-size", "512M", "-o", out], "SHM larger than memory", "smaller than guest memory")
    bad(["--shm-size", "4097", "-o", out], "SHM not a page multiple", "multiple of 4096")
    bad(["--shm-size", "0", "-o", out], "zero SHM", "multiple of 4096")
    bad(["--shm-size", "1T", "-o", out], "unknown suffix", "is not a size")
    bad(["--shm-size", "lots", "-o", out], "not a number", "is not a size")
    bad(["--shm-size", "99999999999999999999", "-o", out], "overflowing size", "is not a size")
    bad(["--shm-size", "17179869184G", "-o", out], "size overflowing with its suffix", "too large")
    bad(["--memory", "0", "-o", out], "zero memory", "guest memory")
    bad(["--memory", "32", "-o", out], "memory too small", "too small")
    bad(["--memory", "2000000", "-o", out], "memory beyond 40 bits", "40-bit")
    bad(["--memory", "99999999999999", "-o", out], "memory overflowing bytes", "too large")
    bad(["--memory", "256", "--initrd-size", "300M", "-o", out], "initrd too large", "initrd")
    bad(["--cmdline", "KTSTR_GUEST=1", "-o", out], "cmdline setting KTSTR_*", "KTSTR_GUEST=1")
    bad([], "no -o", "output")
    bad(["-o", os.path.join(d, "no", "such", "dir.dtb")], "unwritable output", "cannot open")

r = subprocess.run([vmm, "dtb", "--help"], capture_output=True)
check(r.returncode == 0 and b"--shm-size" in r.stdout and b"memreserve" in r.stdout, "--help documents the contract")

check.finish()

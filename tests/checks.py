"""Counted checks, shared by the Python tests of tests/cli and tests/vm:
each check prints "ok: ..." or "FAIL: ...", and finish() prints the count
and exits non-zero when any check failed."""
import re
import subprocess
import sys


class Checks:
    def __init__(self):
        self.failures = 0

    def __call__(self, cond, what):
        if cond:
            print("ok:", what)
        else:
            self.failures += 1
            print("FAIL:", what)
        return bool(cond)

    def finish(self):
        print(f"{'FAILED' if self.failures else 'PASSED'}: {self.failures} failures")
        sys.exit(1 if self.failures else 0)


# What ktstr-vmm prints when the emulated KVM host's outer guest itself died
# (its kernel panicked, or QEMU reset or exited), as opposed to anything the
# inner run decided (emulated_host.cpp). docs/kvm-anywhere.md has the rate.
_OUTER_DIED = "emulated host: QEMU ended ("
# What ktstr-vmm prints when the guest reset during its boot, before any
# exit status (exit 242), by a triple fault. Seen only under the emulated
# host's nested SVM (TCG), about once in 35 boots on 2026-12-05, at random
# points of an otherwise normal boot (docs/kvm-anywhere.md); a VMM bug that
# broke the boot would fault every time, and fails the second attempt too.
_BOOT_TRIPLE_FAULT = ("boot failure: the guest reset without reporting an exit status", "triple fault")
# What ktstr-vmm prints when the emulated host's own timeout ended it (exit
# 124), then where each outer CPU was (emulated_host.cpp). Taken for the
# emulation's failure only when those lines say the outer guest itself was
# stuck in its kernel (the hangs seen: both CPUs running kernel code, one at
# the int3 entry, docs/kvm-anywhere.md) or QEMU did not answer. A CPU in
# user space or in the inner guest (a hung inner program, kvm-check's
# --test-hang), or every CPU halted (the outer guest idles while something
# waits: a deadlocked inner VMM), is the run's own failure.
_OUTER_HUNG = "emulated host: timed out after"
_QEMU_STUCK = "QEMU's monitor did not answer"
_OUTER_CPU = re.compile(r"^outer CPU \d+: pc 0x([0-9a-f]+)(.*)$", re.M)
# The kernel half of the address space: x86_64 from 0xffff800000000000,
# arm64 from 0xffff000000000000 (48-bit VA; with nokaslr its kernel text is
# at 0xffff8000...).
_KERNEL_HALF = 0xffff000000000000


def outer_guest_stuck(err):
    """True when ktstr-vmm's lines on the outer CPUs say the outer guest (or
    QEMU) was stuck, not the inner run (comment above)."""
    if _QEMU_STUCK in err:
        return True
    cpus = [(int(pc, 16), rest) for pc, rest in _OUTER_CPU.findall(err)]
    if not cpus or any(pc < _KERNEL_HALF for pc, _ in cpus):
        return False
    return not all(rest.endswith(", halted") for _, rest in cpus)


def emulation_failure(returncode, err):
    """The line saying the emulated host failed under the run, or None."""
    if returncode == 125 and _OUTER_DIED in err:
        return next(l for l in err.splitlines() if _OUTER_DIED in l)
    if returncode == 242 and all(p in err for p in _BOOT_TRIPLE_FAULT):
        return next(l for l in err.splitlines() if _BOOT_TRIPLE_FAULT[0] in l)
    if returncode == 124 and _OUTER_HUNG in err and outer_guest_stuck(err):
        return next(l for l in err.splitlines() if _OUTER_HUNG in l)
    return None


def run_vmm(argv, timeout, attempts=2):
    """Runs ktstr-vmm; when the emulated host's outer guest died or hung
    under the run, or the guest triple-faulted in its boot
    (emulation_failure), says so and runs it once more.
    Returns the last CompletedProcess; the caller checks it as usual, so a
    second such failure fails the test."""
    for attempt in range(1, attempts + 1):
        r = subprocess.run(argv, capture_output=True, timeout=timeout)
        err = r.stderr.decode(errors="replace")
        line = emulation_failure(r.returncode, err)
        if line is not None and attempt < attempts:
            print(f"NOTE: attempt {attempt} discarded, the emulation failed under it: {line}")
            print("--- its stderr ---\n" + err[-3000:] + "---")
            continue
        return r

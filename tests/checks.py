"""Counted checks, shared by the Python tests of tests/cli and tests/vm:
each check prints "ok: ..." or "FAIL: ...", and finish() prints the count
and exits non-zero when any check failed."""
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


def run_vmm(argv, timeout, attempts=2):
    """Runs ktstr-vmm; when the emulated host's outer guest died under the
    run (not the inner guest, not ktstr-vmm), says so and runs it once more.
    Returns the last CompletedProcess; the caller checks it as usual, so a
    second such failure fails the test."""
    for attempt in range(1, attempts + 1):
        r = subprocess.run(argv, capture_output=True, timeout=timeout)
        err = r.stderr.decode(errors="replace")
        if r.returncode == 125 and _OUTER_DIED in err and attempt < attempts:
            line = next(l for l in err.splitlines() if _OUTER_DIED in l)
            print(f"NOTE: attempt {attempt} discarded, the emulated host's outer guest died under it: {line}")
            print("--- its stderr ---\n" + err[-3000:] + "---")
            continue
        return r

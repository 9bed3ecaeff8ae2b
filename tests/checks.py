"""Counted checks, shared by the Python tests of tests/cli and tests/vm:
each check prints "ok: ..." or "FAIL: ...", and finish() prints the count
and exits non-zero when any check failed."""
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

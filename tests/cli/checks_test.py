#!/usr/bin/env python3
"""tests/checks.py's emulation_failure(): which failures of the emulated
KVM host the VM tests run once more, from ktstr-vmm's own stderr lines
(the hang caught on 2026-12-05 among them), and which stay the run's own."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks, emulation_failure  # noqa: E402

check = Checks()
timed_out = "ktstr-vmm: emulated host: timed out after 720 s; QEMU killed (exit status 124)\n"
console = "--- last console lines ---\nconsole| ktstr-init: running /x/ktstr-vmm\n"
header = "--- the outer CPUs when QEMU was killed ---\n"

caught = (timed_out + console + header + "outer CPU 0: pc 0xffffffff81a18710, CPL 0, running\n"
          "outer CPU 1: pc 0xffffffff81c00ba0, CPL 0, running\n")
check(emulation_failure(124, caught) == timed_out.strip(),
      "both outer CPUs running kernel code (the hang of 2026-12-05): the emulation's, run again")

inner_hang = (timed_out + header + "outer CPU 0: pc 0xffffffff81a17a0b, CPL 0, halted\n"
              "outer CPU 1: pc 0x100e, CPL 0, running\n")
check(emulation_failure(124, inner_hang) is None, "a CPU in the inner guest (kvm-check --test-hang): the run's own")

user = timed_out + header + "outer CPU 0: pc 0x7f3a2c1b0e40, CPL 3, running\nouter CPU 1: pc 0xffffffff81a17a0b, CPL 0, halted\n"
check(emulation_failure(124, user) is None, "a CPU in outer user space (the inner VMM spinning): the run's own")

idle = timed_out + header + "outer CPU 0: pc 0xffffffff81a17a0b, CPL 0, halted\nouter CPU 1: pc 0xffffffff81a17a0b, CPL 0, halted\n"
check(emulation_failure(124, idle) is None, "every outer CPU halted (something waits: a deadlock): the run's own")

arm64 = timed_out + header + "outer CPU 0: pc 0xffff800008baf4fc, EL2\nouter CPU 1: pc 0xffff800008a0c120, EL2\n"
check(emulation_failure(124, arm64) is not None, "arm64: both CPUs in the outer kernel (no halt state known): run again")
arm64_inner = timed_out + header + "outer CPU 0: pc 0xffff800008baf4fc, EL2\nouter CPU 1: pc 0x1020, EL1\n"
check(emulation_failure(124, arm64_inner) is None, "arm64: a CPU in the inner guest: the run's own")

stuck = timed_out + "ktstr-vmm: emulated host: QEMU's monitor did not answer within 3.0 s: QEMU itself was stuck\n"
check(emulation_failure(124, stuck) is not None, "QEMU's monitor did not answer: run again")

check(emulation_failure(124, timed_out) is None, "no word on the outer CPUs: the run's own")
check(emulation_failure(124, "ktstr-vmm: timeout: the command ran past 20 s\n" + header +
                        "outer CPU 0: pc 0xffffffff81a18710, CPL 0, running\n") is None,
      "the inner run's own timeout (not the emulated host's): the run's own")
check(emulation_failure(0, caught) is None, "any other exit status: the run's own")

died = "ktstr-vmm: emulated host: QEMU ended (exit status 0) after 8.1 s without an exit code from the guest\n"
check(emulation_failure(125, died) == died.strip(), "the outer guest died: run again")
fault = "ktstr-vmm: boot failure: the guest reset without reporting an exit status (triple fault)\n"
check(emulation_failure(242, fault) == fault.strip(), "a triple fault in the boot: run again")
check(emulation_failure(242, "ktstr-vmm: boot failure: something else\n") is None, "another boot failure: the run's own")

check.finish()

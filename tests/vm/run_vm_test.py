#!/usr/bin/env python3
"""`ktstr-vmm run` booting Debian's default kernel for real, through the
default --kvm auto (on a machine without a fast /dev/kvm: inside the
emulated KVM host). Each scenario is one boot; checks that can share a
guest share it (docs/run.md).
Usage: run_vm_test.py KTSTR_VMM SCENARIO
Scenarios: true-1cpu, false-2cpus, nproc-2cpus, guest-view, memory-4g, panic, boot-timeout, timeout;
each also as arm64-SCENARIO, with an arm64 guest."""
import hashlib
import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks, run_vmm  # noqa: E402

vmm, scenario = sys.argv[1], sys.argv[2]
# "arm64-SCENARIO": the same scenario with an arm64 guest (--arch arm64; on
# x86_64 through the emulated arm64 KVM host, docs/arm64.md).
arch_args = []
if scenario.startswith("arm64-"):
    scenario, arch_args = scenario[len("arm64-"):], ["--arch", "arm64"]
check = Checks()


def run(*args, timeout=600):
    start = time.monotonic()
    args = (*arch_args, *args)
    r = run_vmm([vmm, "run", *args], timeout=timeout)
    elapsed = time.monotonic() - start
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    print(f"$ ktstr-vmm run {' '.join(args)}  -> exit {r.returncode} in {elapsed:.1f} s")
    print("--- stdout ---\n" + out + "--- stderr ---\n" + err + "---")
    return r.returncode, out, own_stderr(err), elapsed


def own_stderr(err):
    """stderr without --kvm auto's one notice line (first, when present)."""
    first, sep, rest = err.partition("\n")
    if first.startswith("ktstr-vmm run: no usable KVM here ("):
        return rest
    return err


def system_ram(iomem):
    """(start, end inclusive) of every System RAM line, nested or not."""
    ranges = []
    for line in iomem.splitlines():
        m = re.match(r"\s*([0-9a-f]+)-([0-9a-f]+) : System RAM$", line)
        if m:
            ranges.append((int(m.group(1), 16), int(m.group(2), 16)))
    return ranges


def section(out, name):
    """The text between '=== NAME' and the next '=== ' line."""
    m = re.search(r"^=== " + re.escape(name) + r"\n(.*?)^=== ", out, re.S | re.M)
    return m.group(1) if m else None


def known_text(label, size):
    """A deterministic text of `size` bytes, lines of varied length."""
    lines, n = [], 0
    while n < size:
        line = f"{label} line {len(lines):05d}: " + "the quick brown fox jumps over the lazy dog "[: len(lines) % 44] + "\n"
        lines.append(line)
        n += len(line)
    return "".join(lines)[:size - 1] + "\n"


# What guest-view runs: one guest, several independent checks, each in its
# own stdout section; the SHM word through read() of /dev/mem, the mapping
# through ktstr-selftest (its ring writer mmaps /dev/mem and refuses a
# region without the host's magic). busybox devmem cannot map it: it asks
# for an uncached mapping, and PAT refuses that while ktstr-init keeps its
# own write-back mapping of the ring.
GUEST_VIEW_SCRIPT = r"""
echo "nproc=$(nproc)"
echo "b2sum-at=$(command -v b2sum)"
echo "=== cmdline"; cat /proc/cmdline
echo "=== iomem"; cat /proc/iomem
base=$(sed -n 's/.*KTSTR_SHM_BASE=\(0x[0-9a-f]*\).*/\1/p' /proc/cmdline)
echo "=== shm-word"; dd if=/dev/mem bs=4096 skip=$((base / 4096)) count=1 2>/dev/null | od -A n -t x4 -N 4
echo "=== selftest"; ktstr-selftest --shm 2>&1; echo "selftest-exit=$?"
echo "=== b2sum"; b2sum /include/stdout.txt
echo "=== text"; cat /include/stdout.txt
echo "=== end"
cat /data/stderr.txt >&2
printf x
exit 7
"""

with tempfile.TemporaryDirectory() as d:
    if scenario == "true-1cpu":
        rc, out, err, secs = run("--cpus", "1", "--", "true")
        check(rc == 0, "true on 1 vCPU: exit status 0")
        check(out == "" and err == "", "nothing else on stdout or stderr")

    elif scenario == "false-2cpus":
        rc, out, err, secs = run("--cpus", "2", "--", "false")
        check(rc == 1, "false on 2 vCPUs: exit status 1")
        check(out == "" and err == "", "the command's own failure is not explained by the VMM")

    elif scenario == "nproc-2cpus":
        rc, out, err, secs = run("--cpus", "2", "--", "nproc")
        check(rc == 0, "nproc on 2 vCPUs: exit status 0")
        check(out == "2\n", f"the guest sees 2 CPUs online ({out!r})")

    elif scenario == "guest-view":
        stdout_text = known_text("stdout", 24 * 1024 + 3)
        stderr_text = known_text("stderr", 9 * 1024 + 1)
        stdout_file = os.path.join(d, "stdout.txt")
        stderr_file = os.path.join(d, "stderr.txt")
        open(stdout_file, "w").write(stdout_text)
        open(stderr_file, "w").write(stderr_text)
        program = "/usr/bin/b2sum"  # coreutils, dynamically linked; busybox has no b2sum
        check(b"ld-linux" in open(program, "rb").read(4096), f"{program} is dynamically linked on the host")
        result_file = os.path.join(d, "result.json")
        rc, out, err, secs = run("--cpus", "4", "--include", stdout_file, "--include", stderr_file + ":/data/stderr.txt",
                                 "--include", program, "--json", "--json-file", result_file,
                                 "--", "sh", "-c", GUEST_VIEW_SCRIPT)
        check(rc == 7, f"the script's exit status 7 comes back ({rc})")

        # The script's output ends in "x" without a newline: --json's result
        # still stands alone on the last line, for a strict JSON reader.
        last = out[:-1].rpartition("\n")[2] if out.endswith("\n") else None
        try:
            result = json.loads(last) if last is not None else None
        except ValueError:
            result = None
        check(isinstance(result, dict) and result.get("exit_code") == 7,
              f"--json: the last stdout line alone is the run result, exit_code 7 ({last!r:.200})")
        check(last is not None and out[:-len(last) - 1].endswith("=== end\nx\n"),
              "the command's output ends in 'x' and a newline the VMM added before the result")
        file_text = open(result_file).read() if os.path.exists(result_file) else None
        check(last is not None and file_text == last + "\n",
              "--json-file: the same JSON line, alone, came back in the file")
        check(out.startswith("nproc=4\n"), "--cpus 4: nproc prints 4")
        check("\nb2sum-at=/include/b2sum\n" in out, "an included program is found on PATH through /include")

        text = section(out, "text")
        check(text == stdout_text, f"{len(stdout_text)} bytes of stdout arrive intact "
                                   f"({'none' if text is None else len(text)} arrived)")
        check(err == stderr_text, f"{len(stderr_text)} bytes of stderr arrive intact ({len(err)} arrived)")
        want = hashlib.blake2b(stdout_text.encode()).hexdigest()
        check(section(out, "b2sum") == f"{want}  /include/stdout.txt\n",
              "the included dynamically linked b2sum runs and hashes the included file as the host does")

        cmdline = section(out, "cmdline") or ""
        m = re.search(r"KTSTR_SHM_BASE=(0x[0-9a-f]+) KTSTR_SHM_SIZE=(0x[0-9a-f]+)", cmdline)
        check(m is not None, "the kernel command line names the SHM region")
        if m:
            base, size = int(m.group(1), 16), int(m.group(2), 16)
            check(size == 1 << 20, f"the default --shm-size is 1 MiB ({size:#x})")
            ram = system_ram(section(out, "iomem") or "")
            check(len(ram) >= 2, f"/proc/iomem lists System RAM ({len(ram)} ranges)")
            overlap = [r for r in ram if r[0] < base + size and base <= r[1]]
            check(not overlap, f"no System RAM covers the SHM region {base:#x}+{size:#x} ({overlap})")
            check(any(r[1] < base for r in ram) and any(r[0] >= base + size for r in ram),
                  "RAM continues on both sides of the region (an E820 gap, not the end of RAM)")
        check((section(out, "shm-word") or "").split() == ["53544d52"],
              "the first word of the region read through /dev/mem is the ring magic 0x53544D52")
        selftest = section(out, "selftest") or ""
        check("SELFTEST shm SCEN len=8" in selftest and "status=written" in selftest and "selftest-exit=0" in selftest,
              "ktstr-selftest maps the region through /dev/mem, finds the host's ring and writes to it")

    elif scenario == "memory-4g":
        rc, out, err, secs = run("--memory", "4096", "--", "sh", "-c",
                                 "echo '=== iomem'; cat /proc/iomem; echo '=== meminfo'; cat /proc/meminfo; echo '=== end'")
        check(rc == 0, "exit status 0")
        ram = system_ram(section(out, "iomem") or "")
        high = [r for r in ram if r[0] >= 1 << 32]
        check(len(high) == 1, f"one System RAM range above 4 GiB ({[(hex(a), hex(b)) for a, b in high]})")
        total = sum(b - a + 1 for a, b in ram)
        check(4000 << 20 <= total <= 4096 << 20, f"System RAM adds up to nearly 4 GiB ({total >> 20} MiB)")
        m = re.search(r"^MemTotal:\s+(\d+) kB$", section(out, "meminfo") or "", re.M)
        kib = int(m.group(1)) if m else 0
        # The kernel's own code, data and reserved memory are not in MemTotal.
        check(3800 << 10 <= kib <= 4096 << 10, f"MemTotal is close to 4 GiB ({kib} kB)")

    elif scenario == "panic":
        rc, out, err, secs = run("--timeout", "120", "--", "sh", "-c",
                                 "echo before; echo c > /proc/sysrq-trigger; sleep 600; echo after")
        check(rc == 241, f"a guest kernel panic gives exit status 241 ({rc})")
        lines = err.splitlines()
        check(len(lines) == 1 and lines[0].startswith("ktstr-vmm: guest kernel panic: ")
              and lines[0].endswith("(exit status 241)"), f"one line says it was a panic ({lines!r})")
        check("after" not in out, "the command did not go on after the panic")

    elif scenario == "boot-timeout":
        # A guest that never starts the command, whatever the machine's
        # speed: init is a shell waiting on the console for input.
        rc, out, err, secs = run("--boot-timeout", "20", "--append", "rdinit=/bin/sh", "--", "true")
        check(rc == 240, f"a boot that never starts the command gives exit status 240 ({rc})")
        lines = err.splitlines()
        check(bool(lines) and lines[0].startswith(
            "ktstr-vmm: timeout: the guest did not start the command within the boot timeout of 20 s "
            "(exit status 240); the host got 0 frames"), "the first line says the boot timed out")
        check(any(l.startswith("console| ") for l in lines), "the kernel console's last lines follow, prefixed")
        where = [l for l in lines if l.startswith("ktstr-vmm: where the vCPUs were: ")]
        found = re.findall(r"vCPU (\d+) at (0x[0-9a-f]+)(?: \(link-time (0x[0-9a-f]+)\))?", where[0] if where else "")
        # Debian's System.map is a stub, so no names: the KASLR-free
        # address, from the guest's page tables, in the kernel's text. A
        # kernel entered through PVH is not moved (no KASLR there): its
        # address is the link-time one, and no second one is printed.
        found = [(n, a, t or a) for n, a, t in found]
        check(len(found) == 2 and all(0xffffffff81000000 <= int(t, 16) < 0xffffffff84000000
                                      and (int(a, 16) - int(t, 16)) % (2 << 20) == 0 for _, a, t in found),
              f"where both vCPUs were, in the kernel's text before KASLR ({found})")

    elif scenario == "timeout":
        # The timeout counts from the command's start (PayloadStarting), so
        # however slowly the machine boots, the command has its 20 s.
        rc, out, err, secs = run("--timeout", "20", "--", "sh", "-c", "echo started; sleep 600")
        check(rc == 240, f"a hung command gives exit status 240 ({rc})")
        lines = err.splitlines()
        check(len(lines) == 1 and lines[0].startswith(
            "ktstr-vmm: timeout: the command did not finish within 20 s of its start (exit status 240); "
            "the host got "), f"one line says it timed out ({lines!r})")
        m = re.search(r"the host got (\d+) frames \((\d+) bulk bytes\), the last at ([\d.]+) s; "
                      r"boot complete at ([\d.]+) s; last init stage (\w+)$", lines[0] if lines else "")
        check(m is not None and int(m[1]) > 0 and int(m[2]) > 0 and m[5] == "PayloadStarting",
              f"and where the guest got to: frames seen, the command started ({m and m.groups()})")
        check(out == "started\n", "what the command wrote before the timeout arrived")
        check(secs >= 20, f"not before the timeout ({secs:.1f} s)")


    else:
        print("unknown scenario", scenario)
        sys.exit(2)

check.finish()

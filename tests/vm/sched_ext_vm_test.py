#!/usr/bin/env python3
"""sched_ext end to end: the kernel `ktstr-vmm kernel build` built
(--kernel sched-ext), a real scheduler started and watched by ktstr-init,
its fate reported by the host (docs/sched-ext.md). One boot per scenario,
through the default --kvm auto.
Usage: sched_ext_vm_test.py KTSTR_VMM SCENARIO
Scenarios: simple, qmap-error, qmap-stall, never-attached, timeout-dump."""
import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks, run_vmm  # noqa: E402

vmm, scenario = sys.argv[1], sys.argv[2]
check = Checks()


def run(*args, timeout=900):
    start = time.monotonic()
    r = run_vmm([vmm, "run", "--kernel", "sched-ext", *args], timeout=timeout)
    elapsed = time.monotonic() - start
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    print(f"$ ktstr-vmm run --kernel sched-ext {' '.join(args)}  -> exit {r.returncode} in {elapsed:.1f} s")
    print("--- stdout ---\n" + out[-20000:] + "--- stderr ---\n" + err[-20000:] + "---")
    return r.returncode, out, err


def result_of(out):
    """The --json run result: the last stdout line."""
    last = out.rstrip("\n").rpartition("\n")[2]
    try:
        return json.loads(last)
    except ValueError:
        return {}


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return None


# A workload with many wake-ups (each sleep is a dequeue and an enqueue),
# long enough for qmap's faults to fire; prints "survived" if it ends.
SLEEPER = "i=0; while [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; echo survived"

with tempfile.TemporaryDirectory() as d:
    out_dir = os.path.join(d, "out")

    if scenario == "simple":
        # A CPU-bound worker in the background, looked at while it runs:
        # scx_simple switches every task (policy stays SCHED_NORMAL, so
        # /proc/PID/sched's ext.enabled is what tells).
        script = ("cat /sys/kernel/sched_ext/root/ops; cat /sys/kernel/sched_ext/state; "
                  "sh -c 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done' & w=$!; sleep 1; "
                  "grep -E '^ext.enabled' /proc/$w/sched; grep -E '^policy' /proc/$w/sched; "
                  "grep -E '^ext.enabled' /proc/self/sched; kill $w; wait $w; "
                  "cat /sys/kernel/sched_ext/root/ops")
        rc, out, err = run("--cpus", "2", "--scheduler", "scx_simple", "--json", "--output-dir", out_dir,
                           "--", "sh", "-c", script)
        check(rc == 0, f"scx_simple with a workload: exit status 0 ({rc})")
        lines = out.splitlines()
        check(lines[:2] == ["simple", "enabled"], "root/ops names simple, state is enabled before the command's work")
        enabled = [l for l in lines if l.startswith("ext.enabled")]
        check(len(enabled) == 2 and all(re.match(r"ext\.enabled\s*:\s*1$", l) for l in enabled),
              f"the worker and the shell run on sched_ext: ext.enabled 1 ({enabled})")
        check(any(re.match(r"policy\s*:\s*0$", l) for l in lines),
              "the worker's policy stays SCHED_NORMAL (0): a switch-all scheduler")
        check(len(lines) > 2 and lines[-2] == "simple", "still attached at the end of the command")
        s = result_of(out).get("scheduler") or {}
        check(s.get("name") == "scx_simple" and s.get("ops") == "simple", f"result: scheduler scx_simple, ops simple ({s})")
        check(s.get("fate") == "attached at end", f"result: fate 'attached at end' ({s.get('fate')})")
        check(isinstance(s.get("attached_after_ms"), int) and s["attached_after_ms"] >= 0,
              f"result: attached_after_ms {s.get('attached_after_ms')}")
        check(s.get("kind") is None and s.get("reason") is None, "result: no kind, no reason")

    elif scenario == "qmap-error":
        rc, out, err = run("--cpus", "2", "--scheduler", "scx_qmap", "--scheduler-arg", "-e",
                           "--scheduler-arg", "100", "--json", "--output-dir", out_dir, "--", "sh", "-c", SLEEPER)
        check(rc == 244, f"scx_qmap -e 100: the ejection's exit status 244 ({rc})")
        m = re.search(r"^ktstr-vmm: scheduler scx_qmap was ejected after [0-9.]+ s \(ERROR_BPF, kind 1025\): "
                      r"scx_bpf_error.*\(exit status 244\)$", err, re.M)
        check(m, "one line names the scheduler, kind 1025 and the reason")
        check("survived" not in out, "the command did not run to its end")
        s = result_of(out).get("scheduler") or {}
        check(s.get("fate") == "ejected" and s.get("kind") == 1025 and s.get("kind_name") == "ERROR_BPF",
              f"result: ejected, kind 1025 ERROR_BPF ({s.get('fate')}, {s.get('kind')})")
        check("scx_bpf_error" in (s.get("reason") or ""), f"result: reason {s.get('reason')!r}")
        log = read(os.path.join(out_dir, "scheduler.log")) or ""
        check("EXIT" in log, f"scheduler.log holds the scheduler's own report ({len(log)} bytes)")
        check(s.get("log") == os.path.join(out_dir, "scheduler.log"), "result: where the log is")
        dump = read(os.path.join(out_dir, "sched_ext-dump.log"))
        check(dump is not None and "sched_ext" in dump, f"the kernel's sched_ext lines came back ({0 if dump is None else len(dump)} bytes)")

    elif scenario == "qmap-stall":
        # qmap's -t 10 leaves every 10th user thread undispatched; its
        # watchdog timeout is 5 s. Short-lived children keep new threads coming.
        script = "i=0; while [ $i -lt 600 ]; do sleep 0.05 & i=$((i+1)); sleep 0.05; done; wait; echo survived"
        rc, out, err = run("--cpus", "2", "--scheduler", "scx_qmap", "--scheduler-arg=-t", "--scheduler-arg", "10",
                           "--json", "--output-dir", out_dir, "--", "sh", "-c", script)
        check(rc == 244, f"scx_qmap -t 10: the ejection's exit status 244 ({rc})")
        check(re.search(r"^ktstr-vmm: scheduler scx_qmap was ejected after [0-9.]+ s \(ERROR_STALL, kind 1026\): "
                        r"runnable task stall", err, re.M), "one line: kind 1026, runnable task stall")
        s = result_of(out).get("scheduler") or {}
        check(s.get("kind") == 1026 and "runnable task stall" in (s.get("reason") or ""),
              f"result: kind 1026 and its reason ({s.get('kind')}, {s.get('reason')!r})")
        check(s.get("status") in (0, None), f"the scheduler process's own status does not decide it ({s.get('status')})")

    elif scenario == "never-attached":
        prog = os.path.join(d, "fail-at-once")
        with open(prog, "w") as f:
            f.write("#!/bin/sh\necho 'fail-at-once: cannot load the BPF program' >&2\nexit 1\n")
        os.chmod(prog, 0o755)
        rc, out, err = run("--cpus", "1", "--scheduler", prog, "--json", "--output-dir", out_dir,
                           "--", "sh", "-c", "echo the-command-ran")
        check(rc == 246, f"a scheduler that exits 1 at once: exit status 246 ({rc})")
        check(re.search(r"^ktstr-vmm: scheduler fail-at-once never attached: it exited with status 1.*"
                        r"cannot load the BPF program.*\(exit status 246\)$", err, re.M),
              "one line: never attached, its status and its output")
        check("the-command-ran" not in out, "the command did not run")
        s = result_of(out).get("scheduler") or {}
        check(s.get("fate") == "never attached" and s.get("status") == 1, f"result: never attached, status 1 ({s})")
        check("cannot load" in (read(os.path.join(out_dir, "scheduler.log")) or ""), "scheduler.log has its output")

    elif scenario == "timeout-dump":
        rc, out, err = run("--cpus", "2", "--timeout", "20", "--scheduler", "scx_simple", "--json",
                           "--output-dir", out_dir, "--", "sleep", "600")
        check(rc == 240, f"a command past its timeout: exit status 240 ({rc})")
        dump = read(os.path.join(out_dir, "sched_ext-dump.log"))
        check(dump is not None and "SysRq-D" in dump, "the timeout asked for the sched_ext dump, and it came back")
        check(re.search(r"^ktstr-vmm: .*sched_ext dump " + re.escape(out_dir), err, re.M), "stderr says where the dump is")
        s = result_of(out).get("scheduler") or {}
        check(s.get("fate") == "attached at end", f"result: still attached at the timeout ({s.get('fate')})")
        check(s.get("dump") == os.path.join(out_dir, "sched_ext-dump.log"), "result: where the dump is")

    else:
        check(False, f"unknown scenario {scenario}")

check.finish()

#!/usr/bin/env python3
"""arm64 guests against the x86_64 anchor, each through its emulated KVM host
on this machine (docs/benchmarks.md, "arm64 guests"): wall seconds of
REPEAT runs of each case, medians, and the ratio to the anchor measured in
the same run; the inner VM's boot timeline (ms from the inner ktstr-vmm's
start) from its run result.
Usage: boot_times.py KTSTR_VMM [REPEAT]   (scripts/bench_arm64.sh runs it)"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

vmm = sys.argv[1]
repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5

CASES = [
    ("x86_64 `run -- true` (anchor)", ["run", "--", "true"]),
    ("arm64 `run --arch arm64 -- true`", ["run", "--arch", "arm64", "--", "true"]),
    ("arm64 `run --arch arm64 --cpus 2 -- nproc`", ["run", "--arch", "arm64", "--cpus", "2", "--", "nproc"]),
    ("arm64 `run --arch arm64 -- ktstr-selftest --all`", ["run", "--arch", "arm64", "--", "ktstr-selftest", "--all"]),
    ("arm64 `kvm-check --arch arm64`", ["kvm-check", "--arch", "arm64"]),
]


def load():
    return open("/proc/loadavg").read().split()[0]


def one(args, d):
    result = os.path.join(d, "result.json")
    if os.path.exists(result):
        os.remove(result)
    extra = ["--json-file", result] if args[0] == "run" else []
    cmd = [vmm, args[0], *extra, *args[1:]]
    start = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=900)
    wall = time.monotonic() - start
    timeline = {}
    if os.path.exists(result):
        try:
            timeline = json.load(open(result)).get("boot_timeline") or {}
        except ValueError:
            pass
    return r.returncode, wall, timeline, r.stderr


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, unit=""):
    return "-" if x is None else f"{x:.1f}{unit}"


model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"machine: {model}, {os.cpu_count()} CPUs")
print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load before: {load()}")
rows = []
with tempfile.TemporaryDirectory() as d:
    # Interleaved, so that a change of load touches every case alike.
    walls = {name: [] for name, _ in CASES}
    inits = {name: [] for name, _ in CASES}
    cmds = {name: [] for name, _ in CASES}
    failures = {name: 0 for name, _ in CASES}
    for i in range(repeat):
        for name, args in CASES:
            rc, wall, tl, err = one(args, d)
            ok = rc in (0, 1) if args[-1] == "false" else rc == 0
            print(f"  run {i + 1}/{repeat} {name}: exit {rc}, {wall:.1f} s, load {load()}", flush=True)
            if not ok:
                failures[name] += 1
                # What it said, for the record (docs/benchmarks.md counts it).
                log = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"ktstr-bench-arm64-failure-{i + 1}-{len(failures)}.log")
                with open(log, "wb") as f:
                    f.write(err)
                print(f"    failed: stderr kept in {log}", flush=True)
                continue
            walls[name].append(wall)
            inits[name].append(tl.get("init_started_ms"))
            cmds[name].append(tl.get("command_started_ms"))
    anchor = median(walls[CASES[0][0]])
    print(f"load after: {load()}")
    print()
    print("| case | wall, median (s) | ratio to anchor | min / max (s) | inner init started (s) | inner command started (s) | failed runs |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, _ in CASES:
        w = walls[name]
        m = median(w)
        ratio = m / anchor if m is not None and anchor else None
        ini, cmd = median(inits[name]), median(cmds[name])
        print(f"| {name} | {fmt(m)} | {fmt(ratio) if ratio is None else f'{ratio:.2f}'} | "
              f"{fmt(min(w) if w else None)} / {fmt(max(w) if w else None)} | "
              f"{fmt(ini / 1000 if ini else None)} | {fmt(cmd / 1000 if cmd else None)} | {failures[name]} of {repeat} |")
sys.exit(1 if any(failures.values()) else 0)

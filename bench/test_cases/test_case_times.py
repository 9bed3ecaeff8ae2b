#!/usr/bin/env python3
"""Time per scheduler test case (docs/benchmarks.md, "Scheduler tests as
code"): where a KTSTR_TEST_CASE's time goes, against the anchor of a bare
`ktstr-vmm run -- true` measured in the same call.

Each run is timed from outside (the process's wall time); its result.json
splits it:
  boot      the VM's start to the command's start (PayloadStarting)
  body      the command's start to its last frame (the body's work,
            then its exit)
  teardown  the last frame to the VMM's end of the run (power-off, the
            final drain)
  outside   the rest of the wall time: the image build (cached after the
            first run), the emulated KVM host's own boot and return
            (docs/kvm-anywhere.md), process start and exit.
Usage: test_case_times.py --vmm KTSTR_VMM --probe PROBE [--example DIR] [--runs N]"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def split(result, wall_s):
    stages = {s.get("phase_name"): s.get("at_ms") for s in result.get("lifecycle", [])}
    start = stages.get("PayloadStarting")
    last = result.get("last_frame_ms")
    run = result.get("run_time_ms")
    if start is None or last is None or run is None:
        return None
    return {"wall": wall_s, "boot": start / 1000, "body": (last - start) / 1000,
            "teardown": (run - last) / 1000, "outside": wall_s - run / 1000}


def timed(argv, result_file, env=None):
    t = time.monotonic()
    r = subprocess.run(argv, capture_output=True, env=env, timeout=1800)
    wall = time.monotonic() - t
    if callable(result_file):  # a case's directory is known once it ran
        result_file = result_file()
    try:
        with open(result_file) as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = {}
    return r.returncode, split(result, wall), r


def exact(name):
    return "".join("\\" + c if c in '\\,[]*~"' else c for c in name)


def case_dir(out, name):
    """The case's directory: its readable name, '-', a hash (case_runner.cpp)."""
    readable = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:100]
    found = [e for e in os.listdir(out) if e.rpartition("-")[0] == readable] if os.path.isdir(out) else []
    return os.path.join(out, found[0] if len(found) == 1 else readable)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmm", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--example", help="a build of examples/scheduler-tests")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as d:
        def series(label, make):
            samples = []
            for i in range(a.runs):
                status, s, r = make(i)
                if s is None or status != 0:
                    sys.stderr.write(r.stderr.decode(errors="replace")[-4000:])
                    sys.exit(f"{label}: run {i + 1} failed (exit {status})")
                samples.append(s)
                print(f"  {label} run {i + 1}: wall {s['wall']:.1f} s", file=sys.stderr, flush=True)
            rows.append((label, samples))

        def anchor(i):
            out = os.path.join(d, f"anchor{i}.json")
            return timed([a.vmm, "run", "--json-file", out, "--", "true"], out)

        series("anchor: ktstr-vmm run -- true", anchor)

        def probe(i):
            name = "the body runs in the guest, [2 cpus], *exactly*"
            out = os.path.join(d, f"probe{i}")
            env = dict(os.environ, KTSTR_TEST_OUTPUT_DIR=out)
            return timed([a.probe, "[pass]"], lambda: os.path.join(case_dir(out, name), "result.json"), env)

        series("KTSTR_TEST_CASE, 3 checks, no scheduler", probe)

        if a.example:
            def example(i):
                name = "scx_simple keeps ping-pong pairs on two LLCs progressing"
                out = os.path.join(d, f"example{i}")
                env = dict(os.environ, KTSTR_TEST_OUTPUT_DIR=out)
                return timed([os.path.join(a.example, "scheduler_tests"), exact(name)],
                             lambda: os.path.join(case_dir(out, name), "result.json"), env)

            series("example: scx_simple + 3 s ping-pong workload", example)

    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} CPUs, {platform.release()}; "
          f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load after: {' '.join(load)}; "
          f"runs: {a.runs} each, medians")
    anchor_wall = statistics.median(s["wall"] for s in rows[0][1])
    print("\n| run | wall s | x anchor | boot s | body s | teardown s | outside the VM s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, samples in rows:
        m = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
        print(f"| {label} | {m['wall']:.1f} | {m['wall'] / anchor_wall:.2f} | {m['boot']:.2f} | {m['body']:.2f} "
              f"| {m['teardown']:.2f} | {m['outside']:.1f} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""N consecutive `ktstr-vmm run` boots of mixed commands, failures by cause.

Usage: soak.py KTSTR_VMM N [--only KIND[,KIND...]] [--stream-cpus C] [--log DIR]

Kinds, taken in turn: true (exit 0), false (exit 1), selftest
(`ktstr-selftest --all`, no failures), stream (64 MiB of stdout, byte count
and CRC checked against what the selftest reports). Each failed boot's
stdout tail and stderr go to DIR (default: a new directory under /tmp).
Prints one line per boot, then a table of outcomes by kind and cause.
Exit status 0 when every boot passed, 1 otherwise."""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time
import zlib

STREAM_BYTES = 64 << 20


def classify(kind, rc, out, err):
    """(passed, cause) for one boot."""
    text = err.decode(errors="replace")
    if rc == 125 and "QEMU ended" in text:
        if "stack guard page" in text:
            return False, "emulated host died: outer kernel stack guard page"
        if "Kernel panic" in text:
            return False, "emulated host died: outer kernel panic"
        return False, "emulated host died (QEMU ended without an exit code)"
    if rc == 124:
        return False, "emulated host timed out (124)"
    if rc == 240:
        return False, "timeout (240)"
    if rc == 241:
        return False, "inner kernel panic (241)"
    if rc == 242:
        return False, "triple fault (242)" if "triple fault" in text else "inner boot failure (242)"
    if rc == 243:
        return False, "VMM failure (243)"
    want = {"true": 0, "false": 1, "selftest": 0, "stream": 0}[kind]
    if rc != want:
        return False, f"exit status {rc}, expected {want}"
    if kind == "selftest" and "SELFTEST done failures=0 exit=0" not in text:
        return False, "selftest reported failures"
    if kind == "stream":
        m = re.search(r"SELFTEST stdout bytes=(\d+) crc=([0-9a-f]{8})", text)
        if not m or int(m[1]) != STREAM_BYTES:
            return False, "stream: the selftest did not report sending every byte"
        if len(out) != STREAM_BYTES:
            return False, f"stream: {len(out)} of {STREAM_BYTES} bytes arrived"
        if zlib.crc32(out) & 0xffffffff != int(m[2], 16):
            return False, "stream: bytes arrived corrupted (CRC mismatch)"
    return True, "passed"


def command(kind, stream_cpus):
    if kind == "true":
        return ["--", "true"]
    if kind == "false":
        return ["--", "false"]
    if kind == "selftest":
        return ["--", "ktstr-selftest", "--all"]
    return ["--cpus", str(stream_cpus), "--timeout", "600", "--", "ktstr-selftest", "--stdout-bytes",
            str(STREAM_BYTES)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vmm")
    ap.add_argument("n", type=int)
    ap.add_argument("--only", default="true,false,selftest,stream")
    ap.add_argument("--stream-cpus", type=int, default=1)
    ap.add_argument("--log")
    a = ap.parse_args()
    kinds = [k for k in a.only.split(",") if k]
    for k in kinds:
        if k not in ("true", "false", "selftest", "stream"):
            sys.exit(f"soak: unknown kind {k!r} (true, false, selftest, stream)")
    if a.n < 1:
        sys.exit("soak: N must be at least 1")
    log = a.log or tempfile.mkdtemp(prefix="ktstr-soak-")
    os.makedirs(log, exist_ok=True)
    knobs = {k: v for k, v in os.environ.items() if k.startswith("KTSTR_EMULATED_HOST_")}
    print(f"soak: {a.n} boots of {', '.join(kinds)}; stream on {a.stream_cpus} vCPU(s); "
          f"knobs {knobs or 'none'}; failures logged in {log}", flush=True)

    outcomes = collections.Counter()
    times = collections.defaultdict(list)
    started = time.monotonic()
    for i in range(a.n):
        kind = kinds[i % len(kinds)]
        t0 = time.monotonic()
        try:
            r = subprocess.run([a.vmm, "run", *command(kind, a.stream_cpus)], capture_output=True, timeout=1200)
            rc, out, err = r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = None, e.stdout or b"", (e.stderr or b"") + b"\nsoak: killed after 1200 s"
        secs = time.monotonic() - t0
        ok, cause = (False, "hung: killed after 1200 s") if rc is None else classify(kind, rc, out, err)
        outcomes[(kind, cause)] += 1
        if ok:
            times[kind].append(secs)
        else:
            with open(os.path.join(log, f"{i + 1:04d}-{kind}.log"), "wb") as f:
                f.write(f"exit status {rc} after {secs:.1f} s: {cause}\n--- stdout (last 4 KiB) ---\n".encode())
                f.write(out[-4096:])
                f.write(b"\n--- stderr ---\n" + err)
        print(f"soak {i + 1}/{a.n} {kind}: {cause} ({secs:.1f} s)", flush=True)

    total = sum(outcomes.values())
    failed = sum(n for (k, c), n in outcomes.items() if c != "passed")
    print(f"\nsoak: {total} boots in {(time.monotonic() - started) / 60:.1f} min, {total - failed} passed, "
          f"{failed} failed")
    print(f"{'kind':<9} {'boots':>5} {'passed':>6}  {'median s':>8}  failures by cause")
    for kind in kinds:
        boots = sum(n for (k, _), n in outcomes.items() if k == kind)
        passed = outcomes[(kind, "passed")]
        ts = sorted(times[kind])
        median = f"{ts[len(ts) // 2]:.1f}" if ts else "-"
        causes = "; ".join(f"{c}: {n}" for (k, c), n in sorted(outcomes.items()) if k == kind and c != "passed")
        print(f"{kind:<9} {boots:>5} {passed:>6}  {median:>8}  {causes or '-'}")
    print(f"{failed} failed, {total - failed} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""`ktstr-vmm decode` against the committed fixtures (made independently by
tests/fixtures/generate_decode_fixtures.py), plus its error contract.
Usage: decode_cli_test.py KTSTR_VMM FIXTURES_DIR"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks  # noqa: E402

vmm, fixtures = sys.argv[1], sys.argv[2]
check = Checks()


def run(*args, stdin=None):
    return subprocess.run([vmm, "decode", *args], input=stdin, capture_output=True, timeout=60)


def lines(out):
    return [json.loads(l) for l in out.decode().splitlines()]


def expected(name):
    with open(os.path.join(fixtures, name + ".expected")) as f:
        return [json.loads(l) for l in f if l.strip()]


for name, extra in [("stream_all_kinds.bin", []), ("stream_truncated.bin", []), ("stream_empty.bin", []),
                    ("ring_basic.img", ["--ring"]), ("ring_wrapped.img", ["--ring"]),
                    ("ring_offset4096.img", ["--ring", "--offset", "4096"])]:
    path = os.path.join(fixtures, name)
    r = run(*extra, path)
    check(r.returncode == 0, f"{name}: exit 0 (got {r.returncode}, stderr {r.stderr!r})")
    check(lines(r.stdout) == expected(name), f"{name}: output matches the independent expectation")

# Standard input, given as '-' and by default.
with open(os.path.join(fixtures, "stream_all_kinds.bin"), "rb") as f:
    data = f.read()
for args in (["-"], []):
    r = run(*args, stdin=data)
    check(r.returncode == 0 and lines(r.stdout) == expected("stream_all_kinds.bin"), f"stdin via {args or 'default'}")

# Errors: one line on stderr, exit 2, nothing on stdout.
def bad(args, what, stdin=None):
    r = run(*args, stdin=stdin)
    err = r.stderr.decode()
    check(r.returncode == 2 and err.count("\n") == 1 and err.startswith("ktstr-vmm:") and not r.stdout,
          f"{what}: exit 2 with one line (got {r.returncode}, {err!r})")

bad(["/nonexistent/file"], "missing file")
bad(["--ring", os.path.join(fixtures, "stream_all_kinds.bin")], "stream given as ring (bad magic)")
bad(["--ring", "--offset", "99999999", os.path.join(fixtures, "ring_basic.img")], "offset past the end")
bad(["--offset", "4", os.path.join(fixtures, "ring_basic.img")], "--offset without --ring")
bad(["--bogus"], "unknown flag")
bad(["--ring", "--offset", "-5", os.path.join(fixtures, "ring_basic.img")], "negative offset")
with tempfile.TemporaryDirectory() as d:
    bad([d], "a directory")

r = subprocess.run([vmm, "decode", "--help"], capture_output=True)
check(r.returncode == 0 and b"--ring" in r.stdout and b"summary" in r.stdout, "--help documents the contract")

check.finish()

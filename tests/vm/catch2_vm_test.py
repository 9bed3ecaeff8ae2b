#!/usr/bin/env python3
"""KTSTR_TEST_CASE end to end (docs/writing-tests.md): the in-tree probe
program (tests/catch2/catch2_probe.cpp) run for one case at a time, as
ctest runs a discovered case, each case one VM through --kvm auto; its
exit status, Catch2's report and the files in the case's output
directory checked from the outside.
Usage: catch2_vm_test.py PROBE SCENARIO
Scenarios: pass, fail, skip, exit-early."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks, emulation_failure  # noqa: E402

probe, scenario = sys.argv[1], sys.argv[2]
check = Checks()

CASES = {
    "pass": "the body runs in the guest, [2 cpus], *exactly*",
    "fail": "a failed check comes back with its file and line",
    "skip": "a skipped case is a skip",
    "exit-early": "a body that exits early is no pass",
}


def case_dir(out, name):
    """The case's directory: its readable name and a hash (case_runner.cpp)."""
    dirs = [e for e in os.listdir(out) if os.path.isdir(os.path.join(out, e))]
    readable = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:100]
    match = [e for e in dirs if e.rpartition("-")[0] == readable]
    return os.path.join(out, match[0] if len(match) == 1 else readable)


with tempfile.TemporaryDirectory() as d:
    env = dict(os.environ, KTSTR_TEST_OUTPUT_DIR=d)
    name = CASES[scenario]
    junit = os.path.join(d, "junit.xml")
    # Selected by its own tag: exact on the host (Catch2's name patterns
    # are loose, and the decoy cases are made to be taken for the first).
    argv = [probe, f"[{scenario}]", "--reporter", "junit", "--out", junit]
    for attempt in (1, 2):
        start = time.monotonic()
        r = subprocess.run(argv, capture_output=True, env=env, timeout=900)
        out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        print(f"$ {' '.join(argv)}  -> exit {r.returncode} in {time.monotonic() - start:.1f} s")
        # The case's own VM run failed in the emulation (checks.py): its
        # report says so, with the run's exit status; once more.
        line = emulation_failure(242 if "(exit status 242)" in err else 125 if "(exit status 125)" in err else 0, err)
        if line is None or attempt == 2:
            break
        print(f"NOTE: attempt {attempt} discarded, the emulation failed under it: {line}")
        print("--- its stderr ---\n" + err[-3000:] + "---")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d, exist_ok=True)
    print("--- stdout ---\n" + out[-20000:] + "--- stderr ---\n" + err[-20000:] + "---")
    try:
        report = ET.parse(junit).getroot()
        print(ET.tostring(report, encoding="unicode")[-8000:])
    except (OSError, ET.ParseError) as e:
        report = None
        print("no JUnit report:", e)
    check(report is not None, "Catch2 wrote a JUnit report")
    cases = report.findall(".//testcase") if report is not None else []
    check(len(cases) == 1 and cases[0].get("name") == name,
          f"the report has exactly the one case asked for: {[c.get('name') for c in cases]}")
    failures = report.findall(".//failure") if report is not None else []
    files = case_dir(d, name)
    try:
        with open(os.path.join(files, "result.json")) as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = None
    check(result is not None, f"the run result is in the case's directory {files}")
    result = result or {}
    tests = result.get("tests", [])

    if scenario == "pass":
        check(r.returncode == 0, "a passing case exits 0")
        check(not failures, "no failure in the JUnit report")
        check(len(tests) == 1 and tests[0].get("passed") is True,
              f"the guest sent one passing TEST record: {tests}")
        # Only that case ran in the guest: the decoys Catch2's matching
        # takes for it (another case, a longer name) did not.
        check("KTSTR_CHECK(false)" not in out + err, "the guest ran the exact case, not the decoys")
        check(result.get("message_counts", {}).get("TEST") == 1, "one TEST frame")
        check(not os.path.exists(os.path.join(files, "report.json")), "no failure report for a pass")
        check(os.path.getsize(os.path.join(files, "console.log")) > 0, "the kernel console is kept")
    elif scenario == "fail":
        check(r.returncode == 1, "a failing case exits 1 (one failed Catch2 case)")
        text = "".join((f.text or "") + (f.get("message") or "") for f in failures)
        check(len(failures) == 1, "one failure in the JUnit report")
        check("catch2_probe.cpp:" in text and "KTSTR_CHECK(cpus == 64) failed: the guest has 2 CPUs" in text,
              "the failure names the check, its file and line, and its message")
        check("== failed checks ==" in text and "== kernel log" in text,
              "the failure carries the failure report's sections")
        check(len(tests) == 1 and tests[0].get("passed") is False and len(tests[0].get("details", [])) == 1,
              f"one failing TEST record with the one failed check (the passing one is not a detail): {tests}")
        try:
            with open(os.path.join(files, "report.json")) as f:
                rep = json.load(f)
        except (OSError, ValueError):
            rep = {}
        check(rep.get("verdict") == "fail" and len(rep.get("failed_checks", [])) == 1,
              f"report.json says fail with the one failed check: {rep.get('verdict')}, {rep.get('failed_checks')}")
        check(len(rep.get("kernel_log_tail", [])) > 0, "report.json has the kernel log's tail")
    elif scenario == "skip":
        check(r.returncode == 4, "a skipped case exits 4 (SKIP_RETURN_CODE)")
        check("skip: this probe always skips" in out + err, "the skip's reason is printed")
        check(not failures, "no failure in the JUnit report")
        check(len(tests) == 1 and tests[0].get("details", [{}])[0].get("kind") == "skip",
              f"the guest sent a TEST record with a skip detail: {tests}")
    elif scenario == "exit-early":
        check(r.returncode == 1, "a body that exited 0 without its TEST record fails (exit 1)")
        text = "".join((f.text or "") + (f.get("message") or "") for f in failures)
        check("the guest half sent 0 TEST records" in text, "the failure says no TEST record came back")
        check(result.get("exit_code") == 0 and not tests, "the guest program itself exited 0, with no TEST record")
    else:
        check(False, f"unknown scenario {scenario}")
check.finish()

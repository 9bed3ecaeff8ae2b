#!/usr/bin/env python3
"""`ktstr-vmm kernel fetch|list|path`: idempotent fetch of the default kernel
into the real cache, a listing that shows it, and errors for bad packages."""
import os
import subprocess
import sys

vmm = sys.argv[1]
failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    failures += 0 if cond else 1


def run(*args):
    return subprocess.run([vmm, "kernel", *args], capture_output=True, text=True, timeout=800)


first = run("fetch")
check(first.returncode == 0, f"fetch exits 0 ({first.stderr.strip()!r})")
path = first.stdout.strip().splitlines()[-1] if first.stdout.strip() else ""
check(os.path.isfile(path) and os.path.basename(path).startswith("vmlinuz-"), f"fetch prints the bzImage path ({path})")
second = run("fetch")
check(second.returncode == 0 and "already in the cache" in second.stderr, "second fetch is a no-op")
check(second.stdout.strip().splitlines()[-1] == path, "second fetch prints the same path")
release = os.path.basename(path)[len("vmlinuz-"):]
modules = os.path.join(os.path.dirname(os.path.dirname(path)), "lib", "modules", release)
check(os.path.isfile(os.path.join(modules, "modules.order")) or os.path.isdir(os.path.join(modules, "kernel")),
      "the modules are unpacked next to it")
check(not [n for n in os.listdir(os.path.dirname(os.path.dirname(os.path.dirname(path)))) if n.startswith(".fetch-")],
      "no half-unpacked fetch left behind")
lst = run("list")
check(lst.returncode == 0 and release in lst.stdout, "list shows it")
p = run("path")
check(p.returncode == 0 and p.stdout.strip().splitlines()[-1] == path, "path prints it on the last line")
bad = run("fetch", "linux-image-no-such-kernel-amd64")
check(bad.returncode != 0 and bad.stderr.count("\n") == 1 and "no-such-kernel" in bad.stderr,
      f"unknown package: one-line error ({bad.stderr!r})")
print(f"{'FAILED' if failures else 'PASSED'}: {failures} failures")
sys.exit(1 if failures else 0)

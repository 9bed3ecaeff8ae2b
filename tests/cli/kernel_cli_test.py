#!/usr/bin/env python3
"""`ktstr-vmm kernel fetch|list|path|build`: idempotent fetch of the default
kernel into the real cache, a listing that shows it, and errors for bad
packages; `kernel build` refusing bad arguments (exit 2, one line) before it
fetches or builds anything, and `path` naming no built kernel. The real
builds are tests/kernel_build (ctest label kernel-build)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks  # noqa: E402

vmm = sys.argv[1]
check = Checks()


def run(*args, env=None):
    return subprocess.run([vmm, "kernel", *args], capture_output=True, text=True, timeout=800, env=env)


# `kernel build` with bad arguments, in an empty cache: exit 2 and one line
# each, and nothing fetched, unpacked or created for it.
with tempfile.TemporaryDirectory() as cache:
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    bad_fragment = os.path.join(cache, "bad.config")
    with open(bad_fragment, "w") as f:
        f.write("CONFIG_SMP=y\nSMP=y\n")
    not_a_tree = os.path.join(cache, "tree")
    os.mkdir(not_a_tree)
    cases = [
        (["--jobs", "0"], "--jobs"),
        (["--jobs", "many"], "--jobs"),
        (["--name", "default"], "reserved"),
        (["--name", "sched-ext"], "reserved"),
        (["--name", "6.12.118-ktstr-0123456789ab"], "start with a letter"),
        (["--name", "a/b"], "only letters"),
        (["--kconfig", "/nonexistent/usb.config"], "/nonexistent/usb.config: no such file"),
        (["--kconfig", bad_fragment], f"{bad_fragment}:2: 'SMP' is not an option name"),
        (["--source", "/nonexistent/linux"], "not a directory"),
        (["--source", not_a_tree], "not a Linux kernel tree"),
        (["--frobnicate"], "frobnicate"),
    ]
    for args, says in cases:
        r = run("build", *args, env=env)
        check(r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("ktstr-vmm: ")
              and says in r.stderr and r.stdout == "",
              f"build {' '.join(args)}: exit 2, one line saying {says!r} ({r.returncode}, {r.stderr!r})")
    check(not os.path.exists(os.path.join(cache, "ktstr")), "bad build arguments fetch and create nothing")
    r = run("path", "--kernel", "sched-ext", env=env)
    check(r.returncode == 1 and r.stderr == "ktstr-vmm: error: no built kernel: run 'ktstr-vmm kernel build' first\n",
          f"path --kernel sched-ext without a built kernel: one line ({r.stderr!r})")
    r = run("path", "--kernel", "nosuchname", env=env)
    check(r.returncode == 1 and r.stderr.count("\n") == 1 and "no kernel of that name" in r.stderr,
          f"path --kernel with an unknown name: one line ({r.stderr!r})")

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
check(any(release in l and l.endswith("(default)") for l in lst.stdout.splitlines()), "list marks it as the default")
p = run("path")
check(p.returncode == 0 and p.stdout.strip().splitlines()[-1] == path, "path prints it on the last line")
bad = run("fetch", "linux-image-no-such-kernel-amd64")
check(bad.returncode != 0 and bad.stderr.count("\n") == 1 and "no-such-kernel" in bad.stderr,
      f"unknown package: one-line error ({bad.stderr!r})")
opt = run("fetch", "--", "-oAPT::Foo=1")
check(opt.returncode != 0 and "not a Debian package name" in opt.stderr, "an option-like name never reaches apt")
# Two fetches at once into an empty cache: one downloads, the other waits
# for the lock and finds the kernel there.
with tempfile.TemporaryDirectory() as cache:
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    procs = [subprocess.Popen([vmm, "kernel", "fetch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for _ in range(2)]
    outs = [p.communicate(timeout=800) for p in procs]
    codes = [p.returncode for p in procs]
    check(codes == [0, 0], f"concurrent fetches both succeed ({[e.strip() for _, e in outs]})")
    paths = {o.strip().splitlines()[-1] for o, _ in outs if o.strip()}
    check(len(paths) == 1 and paths.pop().startswith(cache), "concurrent fetches print the same path")
    check(sum("fetched" in e for _, e in outs) == 1 and sum("already in the cache" in e for _, e in outs) == 1,
          "exactly one of them downloaded")
    kernels = os.path.join(cache, "ktstr", "kernels")
    check(sorted(n for n in os.listdir(kernels) if not n.startswith(".")) == sorted(["default", release]),
          "the cache holds the release and the default link, nothing half-unpacked")

check.finish()

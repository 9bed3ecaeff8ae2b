#!/usr/bin/env python3
"""`ktstr-vmm run --topology` booting Debian's default kernel (CONFIG_NUMA,
CONFIG_ACPI_NUMA) through --kvm auto: the guest's sysfs shows the CPUs,
caches and NUMA nodes the topology asked for (docs/run.md, docs/topology.md).
Usage: topology_vm_test.py KTSTR_VMM SCENARIO [RUN OPTIONS...]
Scenarios: numa-2-1-2-2 (2 nodes, 1 LLC each, 2 cores per LLC, 2 threads
per core). RUN OPTIONS go before --topology (e.g. --kernel sched-ext)."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import Checks, run_vmm  # noqa: E402

vmm, scenario, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
check = Checks()

# One line per CPU and per node, fields as key=value (values without spaces).
PROBE = r"""
echo "nproc=$(nproc)"
for c in /sys/devices/system/cpu/cpu[0-9]*; do
  t=$c/topology
  echo "${c##*/} thread_siblings=$(cat $t/thread_siblings_list) core_id=$(cat $t/core_id)" \
       "die_id=$(cat $t/die_id) package=$(cat $t/physical_package_id)" \
       "l3=$(cat $c/cache/index3/shared_cpu_list) l3_level=$(cat $c/cache/index3/level)"
done
for n in /sys/devices/system/node/node[0-9]*; do
  echo "${n##*/} cpulist=$(cat $n/cpulist) memtotal_kb=$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' $n/meminfo)"
done
"""


def records(out, prefix):
    """{name: {key: value}} for the lines starting with PREFIX<digits>."""
    got = {}
    for line in out.splitlines():
        m = re.match(rf"({prefix}\d+) (.*)$", line)
        if m:
            got[m.group(1)] = dict(kv.split("=", 1) for kv in m.group(2).split())
    return got


if scenario != "numa-2-1-2-2":
    sys.exit(f"unknown scenario {scenario}")

args = [vmm, "run", *extra, "--topology", "2,1,2,2", "--", "sh", "-c", PROBE]
start = time.monotonic()
r = run_vmm(args, timeout=900)
out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
print(f"$ ktstr-vmm run {' '.join(extra)} --topology 2,1,2,2 -- sh -c PROBE  -> exit {r.returncode} "
      f"in {time.monotonic() - start:.1f} s")
print("--- stdout ---\n" + out + "--- stderr ---\n" + err + "---")
check(r.returncode == 0, f"exit status 0 ({r.returncode})")

cpus = records(out, "cpu")
nodes = records(out, "node")
check("nproc=8" in out.splitlines(), "nproc says 8")
check(sorted(cpus) == sorted(f"cpu{i}" for i in range(8)), f"8 CPUs, cpu0..cpu7 ({sorted(cpus)})")
check(sorted(nodes) == ["node0", "node1"], f"2 NUMA nodes ({sorted(nodes)})")
if sorted(nodes) == ["node0", "node1"]:
    check(nodes["node0"].get("cpulist") == "0-3", f"node0 has CPUs 0-3 ({nodes['node0'].get('cpulist')})")
    check(nodes["node1"].get("cpulist") == "4-7", f"node1 has CPUs 4-7 ({nodes['node1'].get('cpulist')})")
    mem = [int(nodes[n].get("memtotal_kb") or 0) for n in ("node0", "node1")]
    total = sum(mem)
    # About half each: the RAM is split within 2 MiB; what the kernel keeps
    # for itself (its image, the initramfs, page structures) is not.
    check(total > 0 and all(0.3 * total <= m <= 0.7 * total for m in mem),
          f"both nodes have memory, each 30-70 % of the total ({mem} kB)")

if len(cpus) == 8:
    for i in range(8):
        c = cpus[f"cpu{i}"]
        pair = f"{i // 2 * 2}-{i // 2 * 2 + 1}"
        llc = "0-3" if i < 4 else "4-7"
        check(c.get("thread_siblings") == pair, f"cpu{i}: thread siblings {pair} ({c.get('thread_siblings')})")
        check(c.get("package") == str(i // 4), f"cpu{i}: package {i // 4} ({c.get('package')})")
        check(c.get("l3_level") == "3", f"cpu{i}: cache index3 is the L3 ({c.get('l3_level')})")
        check(c.get("l3") == llc, f"cpu{i}: L3 shared with {llc} ({c.get('l3')})")
    cores = {(c.get("package"), c.get("core_id")) for c in cpus.values()}
    check(len(cores) == 4, f"4 distinct cores (package, core_id): {sorted(cores)}")
    # die_id: 6.1 and 6.12 number dies differently (docs/topology.md); the
    # CPUs of one LLC (here: one node) share one.
    for llc in (range(0, 4), range(4, 8)):
        dies = {cpus[f"cpu{i}"].get("die_id") for i in llc}
        check(len(dies) == 1, f"CPUs {llc.start}-{llc.stop - 1} share one die_id ({dies})")

check.finish()

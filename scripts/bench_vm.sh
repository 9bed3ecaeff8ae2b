#!/usr/bin/env bash
# ktstr-vmm against QEMU's microvm on the same KVM, same kernel, same
# initramfs (docs/benchmarks.md, "ktstr-vmm vs QEMU microvm"):
#   1. boot: ktstr-boot-bench (bench/boot), seconds to the guest command's first
#      stdout line and to the VMM's exit, REPEAT boots of each;
#   2. bulk throughput guest -> host: ktstr-selftest --bulk-bytes (the port
#      alone, 64 KiB writes) and --stdout-bytes (through ktstr-init), 64M and
#      256M, through both VMMs, MB/s from the first to the last stdout byte;
#   3. peak RSS of each VMM process and its peak resident memory outside
#      guest RAM (printed by every run above).
# Without a usable /dev/kvm everything runs inside ONE emulated KVM host per
# ktstr-boot-bench call (docs/kvm-anywhere.md), QEMU included.
#
# Usage: scripts/bench_vm.sh [BUILD_DIR] [REPEAT]   (defaults: build, 7; STDOUT_REPEAT=3)
# Results: printed, and the reports kept in $OUT (default /tmp/ktstr-bench-vm).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
repeat=${2:-7}
vmm="$build/vmm/ktstr-vmm"
bench="$build/bench/ktstr-boot-bench"
out=${OUT:-/tmp/ktstr-bench-vm}
mkdir -p "$out"
for b in "$vmm" "$bench"; do
  [ -x "$b" ] || { echo "bench_vm.sh: $b missing: scripts/build.sh $build (with KTSTR_BENCH on)" >&2; exit 2; }
done

load() { echo "load: $(cut -d' ' -f1-3 /proc/loadavg) ($1)"; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "qemu: $(qemu-system-x86_64 --version | head -1)"
echo "kernel: $("$vmm" kernel path)"

timed() {  # NAME CMD...: run, print its wall time
    local name=$1; shift
    load "before $name"
    local start end
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    echo "wall: $name $(echo "$end - $start" | bc) s"
    load "after $name"
}

timed boot "$bench" --ktstr-vmm "$vmm" --repeat "$repeat" --report "$out/boot.txt"
# microvm's default RTC setting leaves Linux's rtc_cmos probing absent
# CMOS ports (about 15 s of port exits under the emulated host); with a
# real RTC it does not.
timed boot-rtc "$bench" --ktstr-vmm "$vmm" --repeat "$repeat" --qemu-machine microvm,acpi=on,rtc=on \
    --report "$out/boot-rtc.txt"
# Bulk throughput: the port alone (64 KiB writes), then a command's stdout
# through ktstr-init; 64 and 256 MiB each.
for size in 64M 256M; do
  timed "bulk-$size" "$bench" --ktstr-vmm "$vmm" --repeat "${STDOUT_REPEAT:-3}" --timeout 900 \
      --qemu-machine microvm,acpi=on,rtc=on --report "$out/bulk-$size.txt" -- ktstr-selftest --bulk-bytes "$size"
  timed "stdout-$size" "$bench" --ktstr-vmm "$vmm" --repeat "${STDOUT_REPEAT:-3}" --timeout 900 \
      --qemu-machine microvm,acpi=on,rtc=on --report "$out/stdout-$size.txt" -- ktstr-selftest --stdout-bytes "$size"
done
echo "reports: $out"

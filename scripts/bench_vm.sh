#!/usr/bin/env bash
# ktstr-vmm against QEMU's microvm on the same KVM, same kernel, same
# initramfs (docs/benchmarks.md, "ktstr-vmm vs QEMU microvm"):
#   1. boot: ktstr-boot-bench (bench/boot), seconds to the guest command's first
#      stdout line and to the VMM's exit, REPEAT boots of each, with ktstr-vmm's
#      own phases (setup, kernel, init, command) from its run result; once with
#      the default kernel entry (PVH), once with both VMMs on the bzImage;
#   2. bulk throughput guest -> host: ktstr-selftest --bulk-bytes (the port
#      alone, 64 KiB writes) and --stdout-bytes (through ktstr-init), 64M,
#      and the port with 256M, through both VMMs, MB/s from the first to the
#      last stdout byte;
#   3. peak RSS of each VMM process and its peak resident memory outside
#      guest RAM (printed by every run above);
#   4. the in-process bulk path (no KVM) beside memcpy (ktstr-bench).
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

status=0
timed() {  # NAME CMD...: run, print its wall time; a failed boot does not stop the rest
    local name=$1; shift
    load "before $name"
    local start end rc=0
    start=$(date +%s.%N)
    "$@" || rc=$?
    end=$(date +%s.%N)
    echo "wall: $name $(echo "$end - $start" | bc) s (exit status $rc)"
    load "after $name"
    [ "$rc" -eq 0 ] || status=$rc
}

# Boot, QEMU with a real RTC (microvm's default leaves Linux's rtc_cmos
# probing absent CMOS ports: about 15 s of port exits under the emulated
# host). First ktstr-vmm's default kernel entry (PVH where the kernel has
# it; QEMU gets the same file), then both on the bzImage's own entry.
qemu_machine=microvm,acpi=on,rtc=on
timed boot "$bench" --ktstr-vmm "$vmm" --repeat "$repeat" --qemu-machine "$qemu_machine" \
    --report "$out/boot.txt"
timed boot-bzimage "$bench" --ktstr-vmm "$vmm" --repeat "$repeat" --qemu-machine "$qemu_machine" \
    --kernel-entry bzimage --report "$out/boot-bzimage.txt"
# Bulk throughput guest -> host: the port alone (64 KiB writes), then a
# command's stdout through ktstr-init, 64 MiB; then 256 MiB on the port (the
# VMM's own memory over a long stream).
timed bulk-64M "$bench" --ktstr-vmm "$vmm" --repeat "${STDOUT_REPEAT:-3}" --timeout 900 \
    --qemu-machine "$qemu_machine" --report "$out/bulk-64M.txt" -- ktstr-selftest --bulk-bytes 64M
timed stdout-64M "$bench" --ktstr-vmm "$vmm" --repeat "${STDOUT_REPEAT:-3}" --timeout 900 \
    --qemu-machine "$qemu_machine" --report "$out/stdout-64M.txt" -- ktstr-selftest --stdout-bytes 64M
timed bulk-256M "$bench" --ktstr-vmm "$vmm" --repeat 1 --timeout 900 \
    --qemu-machine "$qemu_machine" --report "$out/bulk-256M.txt" -- ktstr-selftest --bulk-bytes 256M
# The VMM's own ceiling without KVM: the real device and host loop fed by a
# mock driver, beside memcpy of the same bytes (docs/benchmarks.md).
if [ -x "$build/bench/ktstr-bench" ]; then
  timed in-process "$build/bench/ktstr-bench" --benchmark_filter='bulk_path/(in_process/queue:128/event_idx:1|memcpy_anchor)' \
      --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
fi
echo "reports: $out"
exit "$status"

#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds ktstr-vmm, builds the sched_ext
# kernel and its schedulers from Debian's linux-source-6.12 (the first time
# only, about 10 minutes on 2 cores; cached in ~/.cache/ktstr), and runs
# the main job: boot that kernel in a fresh KVM VM with the scx_simple BPF
# scheduler attached and run ktstr-selftest under it, which sends every
# message type over the bulk port and the SHM ring, fills the ring, and
# asks the host for snapshots; its report and, last, the host's summary of
# the run (frames per channel and type, CRC errors, drops, snapshots, the
# scheduler's fate, the exit status) are printed. A scheduler ejected or
# dead during the run fails it (docs/sched-ext.md). Without
# a usable /dev/kvm this runs inside the emulated KVM host (QEMU TCG with
# nested KVM; docs/kvm-anywhere.md): slower, but real.
# Then the same selftest in an arm64 guest (docs/arm64.md): the arm64 cross
# build of the guest programs and ktstr-vmm, Debian's arm64 cloud kernel,
# and on x86_64 the emulated arm64 KVM host (qemu-system-aarch64 with EL2).
# Then the scheduler tests as code: examples/scheduler-tests built against
# an install of this build and run by ctest, one VM per test case
# (docs/writing-tests.md).
# Exits with the guest command's status, or the tests' when that was 0.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
build/vmm/ktstr-vmm kernel build >/dev/null   # setup and the build above already ran (scripts/kernel.sh runs both)
echo "== ktstr-vmm run --kernel sched-ext --scheduler scx_simple --summary -- ktstr-selftest --all"
status=0
build/vmm/ktstr-vmm run --kernel sched-ext --scheduler scx_simple --summary -- ktstr-selftest --all || status=$?
echo "== arm64: ktstr-vmm run --arch arm64 --summary -- ktstr-selftest --all"
arm64_status=0
# A failed cross build fails the job but does not hide the runs around it.
if scripts/build_arm64.sh build-arm64; then
  build/vmm/ktstr-vmm run --arch arm64 --summary -- ktstr-selftest --all || arm64_status=$?
else
  arm64_status=$?
  echo "main: the arm64 build failed (exit status $arm64_status); no arm64 run" >&2
fi
[ "$status" -ne 0 ] || status=$arm64_status
echo "== scheduler tests as code: examples/scheduler-tests against an install, one VM per test case"
tests_status=0
sh tests/examples/scheduler_tests_example.sh build . || tests_status=$?
[ "$status" -ne 0 ] || status=$tests_status
exit "$status"

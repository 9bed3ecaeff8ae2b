#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: the normal build
# with all tests (unit, CLI, install, and the VM tests through the emulated
# KVM host where there is no /dev/kvm), the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, then the fuzzers for a
# bounded time. Exits non-zero on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== build and all tests"
scripts/build.sh build
build/vmm/ktstr-vmm kernel fetch   # the default kernel; cached after the first run
# arm64 guests (docs/arm64.md): the cross build of the programs the emulated
# arm64 KVM host runs (its packages first; ccache makes a second run quick)
# and Debian's arm64 cloud kernel.
scripts/build_arm64.sh build-arm64
build/vmm/ktstr-vmm kernel fetch --arch arm64
# The sched_ext kernel and its schedulers (docs/sched-ext.md): built here
# with its progress on stderr, about 10 minutes the first time on 2 cores,
# a cache hit after; the kernel.build test then checks what it left.
build/vmm/ktstr-vmm kernel build >/dev/null   # setup and the build above already ran (scripts/kernel.sh runs both)
# Unit tests in parallel; the VM tests one at a time (each boots QEMU).
ctest --test-dir build --output-on-failure -j "$(nproc)" -LE vm
if ctest --test-dir build -N -L vm | grep -q 'Total Tests: [1-9]'; then
  ctest --test-dir build --output-on-failure -L vm
fi

echo "== unit tests under ASan + UBSan"
scripts/build.sh build-asan -DKTSTR_SANITIZE=ON -DKTSTR_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -L unit

echo "== fuzzers"
scripts/fuzz.sh "${KTSTR_FUZZ_SECONDS:-30}"

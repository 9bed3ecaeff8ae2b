#!/usr/bin/env bash
# arm64 guests against the x86_64 anchor, each through its emulated KVM host
# here (docs/benchmarks.md, "arm64 guests"). Usage: scripts/bench_arm64.sh
# [BUILD_DIR] [REPEAT] (defaults: build, 5). Needs the arm64 build
# (scripts/build_arm64.sh) and both default kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
exec python3 bench/arm64/boot_times.py "$build/vmm/ktstr-vmm" "${2:-5}"

#!/bin/sh
# Time per scheduler test case against a bare `run -- true` boot, all in
# one call (docs/benchmarks.md, "Scheduler tests as code"). Builds the
# project, installs it into a temporary prefix, builds
# examples/scheduler-tests against it, and times RUNS runs of each.
# Usage: scripts/bench_tests.sh [RUNS]   (default 3)
set -eu
cd "$(dirname "$0")/.."
runs=${1:-3}
scripts/build.sh build >/dev/null
build/vmm/ktstr-vmm kernel build >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install build --prefix "$tmp/prefix" >/dev/null
cmake -S examples/scheduler-tests -B "$tmp/example" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/example" -j2 >/dev/null
python3 bench/test_cases/test_case_times.py --vmm build/vmm/ktstr-vmm \
  --probe build/tests/catch2/ktstr_catch2_probe --example "$tmp/example" --runs "$runs"

#!/usr/bin/env bash
# Builds ktstr-bench (Release, in build-bench/) and runs it. Extra arguments
# go to the benchmark binary, e.g.
#   scripts/bench.sh --benchmark_filter=crc32
#   scripts/bench.sh --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
# Needs the packages of scripts/setup.sh (libbenchmark-dev, zlib1g-dev).
# Also builds build-bench/bench/ktstr-host-latency (the host loop's SHM and
# snapshot latencies; run it by hand). Results are recorded in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKTSTR_BENCH=ON -DKTSTR_SANITIZE=OFF \
  -DKTSTR_FUZZ=OFF -DKTSTR_TESTS=OFF -DKTSTR_GUEST_BINARIES=OFF >/dev/null
cmake --build build-bench -j "$(nproc)" --target ktstr-bench ktstr-host-latency
exec build-bench/bench/ktstr-bench "$@"

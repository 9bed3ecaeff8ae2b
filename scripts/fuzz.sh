#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time
# from its committed seed corpus (tests/fuzz/corpus/NAME). New inputs go to
# a scratch directory, not the committed corpus. Usage: fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DKTSTR_WERROR=ON -DKTSTR_FUZZ=ON -DKTSTR_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzzers
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for fuzzer in build-fuzz/tests/fuzz/*_fuzz; do
  name=$(basename "$fuzzer" _fuzz)
  mkdir -p "$scratch/$name"
  echo "fuzz: $name for ${seconds}s"
  "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix=build-fuzz/ "$scratch/$name" "tests/fuzz/corpus/$name" 2>&1 | tail -n 12
  test "${PIPESTATUS[0]}" -eq 0
done

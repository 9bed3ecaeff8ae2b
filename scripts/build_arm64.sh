#!/usr/bin/env bash
# Cross-builds for aarch64 (docs/arm64.md). Usage: build_arm64.sh [DIR]
# [cmake args...]; DIR defaults to build-arm64. Installs what it needs
# first (scripts/setup_arm64.sh). Builds the targets in KTSTR_ARM64_TARGETS,
# by default the static guest programs ktstr-init and ktstr-selftest and
# ktstr-vmm, which the emulated arm64 KVM host runs. Configuring covers the
# whole project, so every package must be found in the cross setting.
# Release at -O2 without debug information: the programs travel into
# guests (the host's objcopy cannot strip arm64 files), and GCC 12's -O3
# gives a false -Werror=restrict in libstdc++'s char_traits.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-arm64}
[ $# -eq 0 ] || shift
sysroot=$(scripts/setup_arm64.sh | tail -n 1)
read -r -a targets <<<"${KTSTR_ARM64_TARGETS:-ktstr-init ktstr-selftest ktstr-vmm}"

launchers=()
if command -v ccache >/dev/null; then
  launchers=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Tests, benchmarks and fuzzers run on the build host, so they are not
# cross-built.
cmake -S . -B "$dir" -G Ninja -DKTSTR_WERROR=ON \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/aarch64-linux-gnu.cmake" \
  -DKTSTR_ARM64_SYSROOT="$sysroot" \
  -DKTSTR_TESTS=OFF -DKTSTR_BENCH=OFF -DKTSTR_FUZZ=OFF \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
  "${launchers[@]}" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"

# The guest programs go into an arm64 guest's initramfs as they are: they
# must be static aarch64 executables.
for t in ktstr-init ktstr-selftest; do
  f=$(find "$dir" -name "$t" -type f -perm -u+x | head -n 1)
  [ -n "$f" ] || continue
  case $(file -b "$f") in
    *"ARM aarch64"*"statically linked"*) ;;
    *) echo "build_arm64: $f is not a static aarch64 executable: $(file -b "$f")" >&2; exit 1 ;;
  esac
done

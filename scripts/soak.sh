#!/usr/bin/env bash
# Soak: N consecutive boots of mixed commands (true, false, the selftest, a
# 64 MiB stream), failures reported by cause. Not part of CI: a run of 100
# takes about half an hour through the emulated host; results go to
# docs/benchmarks.md. Usage: soak.sh N [--only KIND,...] [--stream-cpus C] [--log DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/soak.sh N [--only true,false,selftest,stream] [--stream-cpus C] [--log DIR]" >&2; exit 2; }
scripts/setup.sh >/dev/null
scripts/build.sh build
build/vmm/ktstr-vmm kernel fetch >/dev/null
exec python3 scripts/soak.py build/vmm/ktstr-vmm "$@"

#!/usr/bin/env bash
# Sets up a Debian 12 machine, builds ktstr-vmm (ninja: nothing when it is
# up to date) and builds the sched_ext kernel and its schedulers into
# ~/.cache/ktstr/kernels (`ktstr-vmm kernel build`, docs/sched-ext.md).
# Idempotent: once built, a run is a cache hit in about a second; the
# first takes 10 to 15 minutes on 2 cores. Arguments go to `kernel build`
# (--jobs N, --name NAME, --kconfig FILE, --source DIR). Prints the
# bzImage's path on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
scripts/build.sh build >&2
exec build/vmm/ktstr-vmm kernel build "$@"

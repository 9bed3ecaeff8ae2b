#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds ktstr-vmm, and runs the main
# job: boot Debian's stock kernel (fetched once into ~/.cache/ktstr) in a
# fresh KVM VM and run ktstr-selftest inside, which sends every message
# type over the bulk port and the SHM ring, fills the ring, and asks the
# host for snapshots; its report and, last, the host's summary of the run
# (frames per channel and type, CRC errors, drops, snapshots, exit status)
# are printed. Without
# a usable /dev/kvm this runs inside the emulated KVM host (QEMU TCG with
# nested KVM; docs/kvm-anywhere.md): slower, but real.
# Exits with the guest command's status.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
build/vmm/ktstr-vmm kernel fetch >/dev/null
echo "== ktstr-vmm run --summary -- ktstr-selftest --all"
exec build/vmm/ktstr-vmm run --summary -- ktstr-selftest --all

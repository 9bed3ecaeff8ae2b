#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds ktstr-vmm, and runs the main job.
# Until the VMM boots, the main job decodes a sample bulk stream and a sample
# SHM ring image (tests/fixtures/decode/) and prints their frames as JSON lines.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
echo "== bulk stream"
build/vmm/ktstr-vmm decode tests/fixtures/decode/stream_all_kinds.bin
echo "== SHM ring image"
build/vmm/ktstr-vmm decode --ring tests/fixtures/decode/ring_basic.img

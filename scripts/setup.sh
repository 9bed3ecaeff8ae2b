#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test and run.
# Idempotent: installs only what is missing, so a second run needs no
# network. Run as root or with sudo available.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config python3 git
  # libraries (Debian packages only)
  libboost-dev libfmt-dev catch2 libfdt-dev libcli11-dev nlohmann-json3-dev
  libarchive-dev libzstd-dev zlib1g-dev liblzma-dev libbenchmark-dev
  # SHA-256 of kernel build keys: OpenSSL's libcrypto
  libssl-dev
  # fuzzing and sanitizers
  clang libclang-rt-14-dev
  # the emulated KVM host, the guest userland, and test tools
  qemu-system-x86 busybox-static cpio libarchive-tools file
  device-tree-compiler acpica-tools
  # kernel supply: apt-get download + dpkg-deb
  apt dpkg
  # kernel build (`ktstr-vmm kernel build`): the kernel (flex, bison, bc,
  # libelf for objtool, pahole for BTF, xz to unpack the source, zstd to
  # compress the image) and its sched_ext schedulers (clang-19 and
  # llvm-strip-19 for BPF: sched_ext wants clang >= 16, bookworm's default is 14)
  flex bison bc libelf-dev dwarves xz-utils zstd clang-19 llvm-19
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

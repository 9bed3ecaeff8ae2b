#!/usr/bin/env bash
# Installs what the aarch64 cross build needs (docs/arm64.md): the cross
# compiler, qemu-system-aarch64, and the arm64 -dev libraries CMake finds,
# co-installed next to the host's through Debian's multiarch. libfdt-dev
# and busybox-static are not Multi-Arch: same (their arm64 builds would
# replace the host's), so their arm64 packages are downloaded and unpacked
# into a sysroot of our own instead: KTSTR_ARM64_SYSROOT, by default
# ~/.cache/ktstr/arm64-sysroot (libfdt under usr/, busybox at bin/busybox).
# Idempotent: a second run needs no network and no root. Prints the
# sysroot's path on the last line.
set -euo pipefail

packages=(
  g++-aarch64-linux-gnu
  # qemu-system-aarch64, to boot an arm64 guest
  qemu-system-arm
  # what the top-level and vmm/ CMakeLists find (Boost, fmt, LibArchive,
  # zlib, liblzma, libzstd, OpenSSL); CLI11, nlohmann-json and Catch2 are
  # header-only and arch-independent: the host's installs serve
  libboost-dev:arm64 libfmt-dev:arm64 libarchive-dev:arm64 zlib1g-dev:arm64
  liblzma-dev:arm64 libzstd-dev:arm64 libssl-dev:arm64
)
# Downloaded and unpacked, never installed (not Multi-Arch: same).
unpacked=(libfdt-dev:arm64 libfdt1:arm64 busybox-static:arm64)

sysroot=${KTSTR_ARM64_SYSROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/arm64-sysroot}
# One setup at a time (main.sh and test.sh may run side by side).
mkdir -p "$(dirname "$sysroot")"
exec 9>"$sysroot.lock"
flock 9

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
need_root() {
  [ -z "$sudo" ] || command -v sudo >/dev/null ||
    { echo "setup_arm64: need root (or sudo) to $*" >&2; exit 1; }
}

updated=0
apt_update() {
  [ "$updated" -eq 1 ] && return
  need_root "run apt-get update"
  $sudo apt-get update -qq
  updated=1
}

if [ "$(dpkg --print-architecture)" != arm64 ] && ! dpkg --print-foreign-architectures | grep -x arm64 >/dev/null; then
  need_root "add the arm64 architecture"
  echo "setup_arm64: dpkg --add-architecture arm64" >&2
  $sudo dpkg --add-architecture arm64
  apt_update
fi

# "PKG=VERSION" for each package, the version apt would install (one
# apt-cache call: each reads all package lists, a second or so). A package
# the lists know no arm64 build of yet has no line: then they are refreshed.
candidates() {
  apt-cache policy "$@" 2>/dev/null |
    awk '/^[^ ]/ { p = substr($0, 1, length($0) - 1) }
         $1 == "Candidate:" && $2 != "(none)" { print p "=" $2 }'
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(candidates "${missing[@]}" | wc -l)" -eq ${#missing[@]} ] || apt_update
  need_root "install: ${missing[*]}"
  echo "setup_arm64: installing ${missing[*]}" >&2
  # Multi-Arch: same packages must match the host's version, so this may
  # also upgrade a few host libraries (libssl3, zlib1g...) to the same one.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The sysroot is current when its stamp names the versions apt offers now.
want=$(candidates "${unpacked[@]}")
if [ "$(wc -l <<<"$want")" -ne ${#unpacked[@]} ]; then apt_update; want=$(candidates "${unpacked[@]}"); fi
stamp=$sysroot/.ktstr-packages
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$sysroot/bin/busybox" ]; then
  echo "setup_arm64: unpacking ${unpacked[*]} into $sysroot" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # As root, apt downloads as its sandbox user _apt, who cannot write here.
  sandbox=()
  [ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
  # shellcheck disable=SC2086 # one PKG=VERSION a line
  (cd "$tmp" && apt-get download -qq "${sandbox[@]}" $want) >&2
  # Never wipe a directory this script did not fill (a mistyped
  # KTSTR_ARM64_SYSROOT).
  if [ -n "$(ls -A "$sysroot" 2>/dev/null)" ] && [ ! -e "$stamp" ]; then
    echo "setup_arm64: $sysroot is not empty and not ours; not touching it" >&2
    exit 1
  fi
  # Unpacked beside it and swapped in whole: a failed unpack leaves the
  # old sysroot (or none), never a half one the next run refuses.
  mkdir -p "$(dirname "$sysroot")"
  new=$(mktemp -d "$sysroot.new.XXXXXX")
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$new"; done
  # busybox-static puts its binary at bin/busybox: the arm64 guest's
  # userland is taken from there.
  test -x "$new/bin/busybox"
  printf '%s\n' "$want" >"$new/.ktstr-packages"
  rm -rf "$sysroot"
  mv "$new" "$sysroot"
fi
echo "$sysroot"

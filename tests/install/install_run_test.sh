#!/bin/sh
# Installs the build tree into a temporary prefix and boots a guest with the
# installed ktstr-vmm (--kvm auto: the emulated KVM host where /dev/kvm is
# unusable): it must find its guest programs in ../libexec/ktstr and run
# `true` to exit status 0. Usage: install_run_test.sh BUILD_DIR
set -eu
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for p in ktstr-init ktstr-selftest; do
  test -x "$tmp/prefix/libexec/ktstr/$p" || { echo "not installed: libexec/ktstr/$p"; exit 1; }
done
# Nothing of the build tree may be reachable: run from elsewhere, with no
# override of where the guest programs are.
unset KTSTR_GUEST_BIN_DIR
cd "$tmp"
status=0
"$tmp/prefix/bin/ktstr-vmm" run --timeout 120 -- true || status=$?
test "$status" -eq 0 || { echo "installed ktstr-vmm run -- true: exit status $status"; exit 1; }
"$tmp/prefix/bin/ktstr-vmm" run --timeout 120 -- sh -c 'exit 3' || status=$?
test "$status" -eq 3 || { echo "installed ktstr-vmm run -- sh -c 'exit 3': exit status $status"; exit 1; }
echo "installed ktstr-vmm ran a guest: ok"

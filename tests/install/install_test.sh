#!/bin/sh
# Installs the build tree into a temporary prefix, builds the consumer
# project against it, and runs it. Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/ktstr/common/frame.hpp"
ls "$tmp"/prefix/lib*/cmake/ktstr/ktstrConfig.cmake >/dev/null
cmake -S "$src/tests/install/consumer" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/build" >/dev/null
out=$("$tmp/build/consumer")
test "$out" = "cbf43926"
echo "installed package consumed: ok"

#!/bin/sh
# Fails when a source under common/, guest/, host/ or vmm/ includes a header
# by a path that climbs out of its directory ("../"). Usage: SOURCE_DIR
set -eu
cd "$1"
if grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*\.\./' common guest host vmm; then
  echo "relative includes found (above): include through the library's own include path"
  exit 1
fi
echo "no relative includes"

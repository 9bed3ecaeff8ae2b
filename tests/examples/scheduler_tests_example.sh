#!/bin/sh
# examples/scheduler-tests built outside the tree against an install prefix,
# as a user builds it, and its ctest run for real: three KTSTR_TEST_CASEs,
# one VM each through --kvm auto, one after another. The qmap case is
# expected to fail with its reason (the example's CMakeLists.txt says so
# to ctest); everything must pass ctest's verdict, and Catch2's JUnit
# report must name the cases.
# Usage: scheduler_tests_example.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== install into $tmp/prefix"
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
echo "== configure and build examples/scheduler-tests against it"
cmake -S "$src/examples/scheduler-tests" -B "$tmp/example" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/example" -j2 >/dev/null
listed=$(ctest --test-dir "$tmp/example" -N | grep -c 'Test *#' || true)
echo "ctest lists $listed tests"
test "$listed" -eq 3
echo "== ctest (each case boots a VM)"
status=0
KTSTR_TEST_OUTPUT_DIR="$tmp/out" ctest --test-dir "$tmp/example" --output-on-failure --timeout 900 \
  --output-junit "$tmp/junit.xml" || status=$?
cases=$(grep -c '<testcase' "$tmp/junit.xml" 2>/dev/null || true)
echo "ctest's JUnit report: ${cases:-no} cases"
if [ "${cases:-0}" -ne 3 ]; then echo "FAIL: ctest's JUnit report should have 3 cases"; status=1; fi
# The expected failure failed for its reason: its report.json records the
# scheduler's fate (the regex ctest checked could in principle be guest text).
qmap=$(ls -d "$tmp"/out/an_scx_qmap_error_is_caught* 2>/dev/null | head -n1)
if [ -n "$qmap" ] && grep -q '"fate": "ejected"' "$qmap/report.json"; then
  echo "qmap case: report.json says the scheduler was ejected"
else
  echo "FAIL: the qmap case left no report.json saying the scheduler was ejected"
  status=1
fi
exit $status

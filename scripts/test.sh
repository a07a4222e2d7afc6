#!/usr/bin/env bash
# Sets everything up and runs every test: a warnings-as-errors build and its
# tests; ferry installed and built against as a package
# (scripts/package_test.sh); then (unless FERRY_SKIP_SANITIZERS=1) a second
# build with AddressSanitizer and UndefinedBehaviorSanitizer running the same
# tests; then (unless FERRY_SKIP_FUZZ=1) a clang build of the libFuzzer
# targets (fuzz/, docs/fuzzing.md), each run for FERRY_FUZZ_SECONDS (default
# 20) to keep them alive; scripts/fuzz.sh runs them for longer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=$(nproc)
# Property tests (rapidcheck) take their case count from RC_PARAMS.
export RC_PARAMS=${RC_PARAMS:-max_success=300}
echo "== build (RelWithDebInfo, -Werror)"
scripts/build.sh build
echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs"
echo "== package (install, then examples/kv and the guide built against it)"
scripts/package_test.sh build

if [ "${FERRY_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DFERRY_SANITIZE=ON -DFERRY_BUILD_BENCH=OFF
  echo "== tests under sanitizers"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
fi

if [ "${FERRY_SKIP_FUZZ:-0}" != 1 ]; then
  # -O0 builds in half the time and is fast enough for a short run; a
  # directory of its own keeps it apart from scripts/fuzz.sh's -O1 build.
  FERRY_FUZZ_BUILD_DIR=build-fuzz-smoke FERRY_FUZZ_OPT=-O0 FERRY_FUZZ_JOBS="$jobs" \
    scripts/fuzz.sh all "${FERRY_FUZZ_SECONDS:-20}"
fi

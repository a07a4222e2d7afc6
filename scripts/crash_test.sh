#!/usr/bin/env bash
# kill -9 of the real `ferry serve` at 200 random points of uploads of 1 byte
# to 8 MiB, a restart after each, and the durability promises checked
# (tests/cli/crash_test.py says which). CTest runs 8 of these points.
#   scripts/crash_test.sh [KILL_POINTS] [SEED] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
kill_points=${1:-200}
seed=${2:-1}
build_dir=${3:-build}
if [ ! -x "$build_dir/cli/ferry" ]; then
  scripts/build.sh "$build_dir"
fi
exec python3 tests/cli/crash_test.py "$build_dir/cli/ferry" --kill-points "$kill_points" --seed "$seed"

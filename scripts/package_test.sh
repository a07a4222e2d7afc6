#!/usr/bin/env bash
# ferry as a package, the way a user gets it: installs an already-built
# ferry (BUILD_DIR, default build) into a temporary prefix and builds against
# it, each as a project of its own, examples/kv and the guide's examples
# (docs/guide, its first test among them), running their tests; then a
# consumer of the simulator alone with toml++, GoogleTest, rapidcheck and
# CLI11 disabled. Each of those builds must compile its own sources and none
# of ferry's. Last, ferry is configured as a subproject (add_subdirectory
# and FetchContent) with nothing switched off by hand, and without CLI11,
# which only the ferry executable needs.
#   scripts/package_test.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
repository=$(pwd)
build_dir=${1:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
"$prefix/bin/ferry" --version

# configure NAME SOURCE_DIR [cmake arguments...]
configure() {
  local name=$1 source=$2
  shift 2
  if ! cmake -S "$source" -B "$work/$name" -G Ninja "${launcher[@]}" "$@" \
      >"$work/$name.configure.log" 2>&1; then
    cat "$work/$name.configure.log"
    echo "package: $name does not configure" >&2
    exit 1
  fi
}

# build NAME SOURCE_DIR: builds it and checks that every file it compiles is
# one of its own, under SOURCE_DIR: ferry comes prebuilt from the package.
build() {
  local name=$1 source
  source=$(realpath "$2")
  ninja -C "$work/$name" -t commands | grep -oE ' -c [^ ]+' | sed 's/^ -c //' \
    >"$work/$name.compiled"
  if grep -qv "^$source/" "$work/$name.compiled"; then
    grep -v "^$source/" "$work/$name.compiled"
    echo "package: building $name compiles the files above, which are not its own" >&2
    exit 1
  fi
  ninja -C "$work/$name" >"$work/$name.build.log" 2>&1 || {
    cat "$work/$name.build.log"
    exit 1
  }
  echo "package: $name compiled $(wc -l <"$work/$name.compiled") files, all its own:" \
    "$(sed "s|^$source/||" "$work/$name.compiled" | tr '\n' ' ')"
}

for project in examples/kv docs/guide; do
  name=$(basename "$project")
  configure "$name" "$project" -DCMAKE_PREFIX_PATH="$prefix"
  build "$name" "$project"
  ctest --test-dir "$work/$name" --output-on-failure
done

configure sim-only tests/package/sim-only -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_DISABLE_FIND_PACKAGE_tomlplusplus=ON -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_rapidcheck=ON -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON
build sim-only tests/package/sim-only
"$work/sim-only/sim_only"

for via in add_subdirectory fetchcontent; do
  configure "subproject-$via" tests/package/subproject -DFERRY_SOURCE_DIR="$repository" \
    -DFERRY_VIA="$via" -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON
  echo "package: ferry configures as a subproject through $via, without CLI11"
done

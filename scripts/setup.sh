#!/usr/bin/env bash
# Installs the Debian packages ferry needs to build and test, when missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  libboost-context-dev libtomlplusplus-dev libcli11-dev libfmt-dev
  nlohmann-json3-dev libxxhash-dev libgoogle-perftools-dev python3
  # The fuzz targets (scripts/fuzz.sh): clang and libFuzzer's runtime
  # (libclang_rt.fuzzer), which Debian 12 ships in libclang-rt-14-dev.
  clang libclang-rt-14-dev
  # The views' tests (docs/seeing-a-run.md): tshark reads the pcaps,
  # rsvg-convert renders the SVGs.
  tshark librsvg2-bin
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

#!/usr/bin/env bash
# The main job: sets everything up, builds ferry, starts `ferry serve` on
# 127.0.0.1 in a temporary root, puts, gets and lists files of awkward sizes
# (0, 1024, 1025 bytes and a few MiB), checks every copy byte for byte with
# cmp, shows a few refusals and the chapter's protocol, and stops the server;
# then lets the simulator find the chapter's bugs that real sockets hide.
#   scripts/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
scripts/setup.sh

build_dir=${1:-build}
echo "== build ($build_dir)"
cmake -S . -B "$build_dir" -G Ninja -DFERRY_WERROR=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target ferry >/dev/null
case "$build_dir" in
  /*) ferry=$build_dir/cli/ferry ;;
  *) ferry=$(pwd)/$build_dir/cli/ferry ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo-XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/root" "$work/files" "$work/downloads" "$work/naive-root"

# start_server OUT_FILE ARGS...: starts `ferry serve --port 0` in the
# background and waits (at most 10 s) for its first line, "listening on
# HOST:PORT"; sets server_pid and address.
start_server() {
  local out=$1
  shift
  "$ferry" serve --host 127.0.0.1 --port 0 "$@" >"$out" 2>"$out.log" &
  server_pid=$!
  for _ in $(seq 100); do
    if [ -s "$out" ]; then break; fi
    sleep 0.1
  done
  local first
  first=$(head -n 1 "$out")
  case "$first" in
    "listening on "*) address=${first#listening on } ;;
    *) echo "demo: ferry serve did not start:"; cat "$out.log"; exit 1 ;;
  esac
}

# stop_server: SIGTERM, and the server must exit 0.
stop_server() {
  kill -TERM "$server_pid"
  local status=0
  wait "$server_pid" || status=$?
  server_pid=""
  echo "  server stopped by SIGTERM, exit status $status"
  [ "$status" -eq 0 ]
}

echo
echo "== ferry/1: serve, put, get, dir"
start_server "$work/serve.out" --root "$work/root"
export FERRY_SERVER=$address
echo "  \$ ferry serve --root $work/root --port 0"
echo "  $(head -n 1 "$work/serve.out")"

: >"$work/files/empty.txt"
head -c 1024 /dev/urandom >"$work/files/chunk-1024.bin"
head -c 1025 /dev/urandom >"$work/files/chunk-1025.bin"
printf 'Hello from ferry.\n' >"$work/files/hello.txt"
head -c $((5 * 1024 * 1024 + 3)) /dev/urandom >"$work/files/five-mib.bin"

echo
cd "$work/files"
for name in *; do
  echo "  \$ ferry put $name"
  echo "    $("$ferry" put "$name")"
  echo "  \$ ferry get $name -o ../downloads/$name"
  echo "    $("$ferry" get "$name" -o "../downloads/$name")"
  cmp "$name" "../downloads/$name"
  cmp "$name" "$work/root/$name"
  echo "    cmp: $(stat -c %s "$name") bytes, identical on the server and after download"
done

echo
echo "  \$ ferry dir"
"$ferry" dir | sed 's/^/    /'

echo
echo "== refusals (ferry prints why and exits 1 or 2)"
show_failure() {
  echo "  \$ ferry $*"
  local status=0
  "$ferry" "$@" 2>"$work/err" >/dev/null || status=$?
  sed 's/^/    /' "$work/err"
  echo "    exit status $status"
}
show_failure put hello.txt --as ../escape.txt
show_failure get no-such-file.txt -o ../downloads/none
show_failure put does-not-exist.txt
echo "  the root holds only what was put: $(ls -A "$work/root" | tr '\n' ' ')"

echo
echo "  server log:"
stop_server
sed 's/^/    /' "$work/serve.out.log"

echo
echo "== the chapter's protocol (naive): bytes in, a count back"
start_server "$work/naive.out" --root "$work/naive-root" --protocol naive --idle-timeout-ms 2000
echo "  \$ ferry serve --protocol naive --root $work/naive-root --port 0"
echo "  $(head -n 1 "$work/naive.out")"
echo "  \$ ferry put chunk-1025.bin --protocol naive --server $address"
echo "    server replied: $("$ferry" put chunk-1025.bin --protocol naive --server "$address")"
cmp chunk-1025.bin "$work/naive-root/upload-1"
echo "    stored as upload-1, identical"
echo "  1024 bytes is exactly one CHUNK_SIZE: the chapter's server waits for a short"
echo "  read that never comes while the client waits for its reply (its known deadlock):"
show_failure put chunk-1024.bin --protocol naive --server "$address" --timeout-ms 1500
stop_server

# The simulator: the same protocol code on a simulated network where one seed
# decides every partial send, short read and delay.
if "$ferry" sim --help >/dev/null 2>&1; then
  echo
  echo "== the simulator: the same protocol code, every schedule decided by a seed"
  show_sim() {
    echo "  \$ ferry sim $*"
    local status=0
    "$ferry" sim "$@" >"$work/sim.out" 2>&1 || status=$?
    grep -v -e '^  t=' -e '^last events:' "$work/sim.out" | head -n 12 | sed 's/^/    /'
    echo "    exit status $status"
    sim_status=$status
  }
  echo "  the chapter's deadlock on exactly CHUNK_SIZE bytes, found and explained:"
  show_sim --workload naive --size 1024
  echo "  the chapter's truncation when a recv comes back short:"
  show_sim --workload naive --size 5000 --short-reads --seeds 1..20
  echo "  ferry/1 under the same faults, 50 seeds:"
  show_sim --workload ferry --size 100000 --partial-sends --short-reads --seeds 1..50
  [ "$sim_status" -eq 0 ]
fi

# The scenario suite: every file under scenarios/, on the backends each lists
# (the simulator, and real sockets on 127.0.0.1), with JUnit XML as CI gets it.
echo
echo "== the scenario suite: scenarios/ on the simulator and on real sockets"
echo "  \$ ferry scenario run scenarios/ --jobs $(nproc) --junit $work/scenarios.xml"
(cd "$repo" && "$ferry" scenario run scenarios/ --jobs "$(nproc)" --junit "$work/scenarios.xml") |
  sed 's/^/    /'
status=${PIPESTATUS[0]}
echo "    exit status $status"
[ "$status" -eq 0 ]

# Exploration: search sizes, faults and schedules, and shrink what fails.
echo
echo "== exploration: the chapter's protocol searched and shrunk to its minimal case"
echo "  \$ ferry explore --workload naive --seed 1"
status=0
"$ferry" explore --workload naive --seed 1 >"$work/explore.out" 2>&1 || status=$?
grep -v '^      t=' "$work/explore.out" | head -n 20 | sed 's/^/    /'
echo "    exit status $status (3: a deadlock found)"
[ "$status" -eq 3 ]

echo
echo "== exploration of a protocol of our own (examples/kv) with two slips"
echo "  \$ ferry explore --workload kv-buggy --keep-going --runs 2000"
status=0
"$ferry" explore --workload kv-buggy --keep-going --runs 2000 >"$work/kv.out" 2>&1 || status=$?
grep -e '^FOUND' -e '^replay' -e '^  client' -e '^    - ' -e 'runs in' "$work/kv.out" | sed 's/^/    /'
echo "    exit status $status"
[ "$status" -ne 0 ]

echo
echo "== exploration of ferry/1: concurrent, pipelining, dishonest clients under every fault"
echo "  \$ ferry explore --workload ferry --time-s 10"
status=0
"$ferry" explore --workload ferry --time-s 10 >"$work/ferry.out" 2>&1 || status=$?
tail -n 2 "$work/ferry.out" | sed 's/^/    /'
echo "    exit status $status (0: nothing found)"
[ "$status" -eq 0 ]

echo
echo "demo: all transfers byte-identical, every scenario as expected"

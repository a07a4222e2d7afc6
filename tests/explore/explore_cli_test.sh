#!/bin/sh
# ferry explore from the command line: exit codes, a saved failure that
# `ferry scenario run` reproduces, and the printed replay command.
# Usage: explore_cli_test.sh FERRY_EXECUTABLE
set -u
ferry="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$ferry" explore --workload naive --keep-going --runs 3000 --save-failures "$dir/found" >"$dir/out.txt" 2>&1
code=$?
[ "$code" -eq 3 ] || fail "naive --keep-going: expected exit 3 (a deadlock among the findings), got $code"
grep -q "^FOUND deadlock" "$dir/out.txt" || fail "no deadlock reported"
grep -q "^FOUND .*(truncated file)" "$dir/out.txt" || fail "no truncation reported"
ls "$dir/found/"*.toml >/dev/null 2>&1 || fail "no scenario saved"
for scenario in "$dir/found/"*.toml; do
    "$ferry" scenario run "$scenario" >"$dir/scenario.txt" 2>&1
    [ $? -eq 1 ] || { cat "$dir/scenario.txt"; fail "$scenario does not reproduce the failure"; }
done
replay=$(grep -m1 "^replay: " "$dir/out.txt" | sed 's/^replay: //')
[ -n "$replay" ] || fail "no replay command printed"
eval "\"$ferry\" ${replay#ferry }" >"$dir/replay.txt" 2>&1
[ $? -ne 0 ] || fail "the replay command passed: $replay"

# --jobs changes nothing but the speed: the same findings, shrunk the same,
# and the same run count (timings stripped).
untimed() { sed -E -e 's/ after [0-9.]+ s$//' -e 's/^([0-9]+ runs) in .*/\1/' "$1"; }
for jobs in 1 3; do
    "$ferry" explore --workload naive --keep-going --runs 3000 --jobs $jobs >"$dir/jobs$jobs.txt" 2>&1
    [ $? -eq 3 ] || fail "naive --keep-going --jobs $jobs: expected exit 3"
done
untimed "$dir/jobs1.txt" >"$dir/jobs1.untimed"
untimed "$dir/jobs3.txt" >"$dir/jobs3.untimed"
cmp -s "$dir/jobs1.untimed" "$dir/jobs3.untimed" || {
    diff "$dir/jobs1.untimed" "$dir/jobs3.untimed"; fail "--jobs 3 found otherwise than --jobs 1"; }
grep -q "^3000 runs$" "$dir/jobs3.untimed" || fail "--runs 3000 on 3 jobs did not do 3000 runs"
"$ferry" explore --workload naive --runs 10 --jobs 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--jobs 0 is a usage error (exit 2)"

"$ferry" explore --protocol naive --runs 10 >/dev/null 2>&1
[ $? -ne 0 ] || fail "naive: a failure exits non-zero"
"$ferry" explore --workload ferry --runs 2000 --shard 2/3 >"$dir/ferry.txt" 2>&1
code=$?
[ "$code" -eq 0 ] || { cat "$dir/ferry.txt"; fail "ferry/1: expected nothing found (exit 0), got $code"; }
"$ferry" explore --protocol ferry --faults nonsense >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad --faults list is a usage error (exit 2)"
"$ferry" explore --workload ferry --shard 4/3 >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad --shard is a usage error (exit 2)"
"$ferry" explore --workload nonsense >"$dir/bad.txt" 2>&1
[ $? -eq 2 ] || fail "an unknown workload is a usage error (exit 2)"
grep -q "nonsense" "$dir/bad.txt" || fail "the error names the unknown workload"
"$ferry" explore --workload kv-buggy --runs 500 >"$dir/kv.txt" 2>&1
[ $? -ne 0 ] || { cat "$dir/kv.txt"; fail "kv-buggy: its planted slips were not found"; }
grep -q "^replay: ferry explore --replay 'kv-buggy " "$dir/kv.txt" || fail "kv-buggy: no replay line"
echo "ok"

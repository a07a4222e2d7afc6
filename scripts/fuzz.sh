#!/usr/bin/env bash
# Builds ferry's libFuzzer targets (fuzz/, docs/fuzzing.md) with clang, ASan
# and UBSan in a build directory of their own, and runs each for a while on a
# copy of its seed corpus. Fails on any finding (a crash, a sanitizer report,
# a broken invariant, a hang, a leak) and prints the command that reproduces
# it.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     default: all, 600 s per target
#   nice -n 19 scripts/fuzz.sh server_session 3600
#
# Targets: request_line reply server_session scenario run_text.
# Environment:
#   FERRY_FUZZ_BUILD_DIR  the build directory (default build-fuzz)
#   FERRY_FUZZ_OPT        optimisation flag of that build (default -O1; the
#                         test suite's short run uses -O0, which builds faster)
#   FERRY_FUZZ_JOBS       how many targets run at once (default 1)
#   FERRY_FUZZ_BUILD_JOBS how many compilers the build runs (default: the cores)
#   FERRY_FUZZ_WORK_DIR   where the corpora grow, the logs and any finding
#                         land (default: a new folder under /tmp, kept)
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(request_line reply server_session scenario run_text)
target=${1:-all}
seconds=${2:-600}
build_dir=${FERRY_FUZZ_BUILD_DIR:-build-fuzz}
opt=${FERRY_FUZZ_OPT:--O1}
jobs=${FERRY_FUZZ_JOBS:-1}

if [ "$target" = all ]; then
    targets=("${all_targets[@]}")
elif [[ " ${all_targets[*]} " == *" $target "* ]]; then
    targets=("$target")
else
    echo "fuzz.sh: no target \"$target\" (targets: ${all_targets[*]} or all)" >&2
    exit 2
fi

clang=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$clang" ]; then
    echo "fuzz.sh: clang++ is missing (scripts/setup.sh installs it)" >&2
    exit 2
fi

echo "== fuzz build ($build_dir: clang, $opt, ASan + UBSan + libFuzzer)"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER="$clang" -DFERRY_FUZZ=ON \
    -DFERRY_WERROR=ON -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$opt -gline-tables-only" \
    >/dev/null
# Only the targets asked for, and the libraries they link.
cmake --build "$build_dir" -j "${FERRY_FUZZ_BUILD_JOBS:-$(nproc)}" --target "${targets[@]/#/fuzz_}"

work_dir=${FERRY_FUZZ_WORK_DIR:-$(mktemp -d /tmp/ferry-fuzz.XXXXXX)}
mkdir -p "$work_dir"
echo "== fuzzing ${targets[*]} for $seconds s each, $jobs at once (work: $work_dir)"

# Runs one target on a copy of its corpus; its log is $work_dir/TARGET.log.
run_target() {
    local name=$1
    local corpus="$work_dir/corpus-$name"
    mkdir -p "$corpus"
    cp -n fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
    local dict=()
    [ -f "fuzz/$name.dict" ] && dict=(-dict="fuzz/$name.dict")
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        "$build_dir/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$work_dir/$name-" "${dict[@]}" "$corpus" \
        >"$work_dir/$name.log" 2>&1
}

# One line per target: how long, how fast, how much coverage; or the finding.
report() {
    local name=$1 status=$2
    local log="$work_dir/$name.log"
    local done_line runs speed
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ "$status" -eq 0 ]; then
        echo "fuzz_$name: ok, $seconds s, ${runs:-?} runs (${speed:-?}/s),${done_line#*DONE}"
        return 0
    fi
    echo "fuzz_$name: FINDING (exit $status); the end of $log:"
    grep -vE '^(#[0-9]|INFO:|MS:|stat::)' "$log" | tail -40 | sed 's/^/    /'
    local artifact
    for artifact in "$work_dir/$name"-*; do
        [ -e "$artifact" ] || continue
        echo "  reproduce: $build_dir/fuzz/fuzz_$name $artifact"
    done
    return 1
}

failed=0
pids=()
names=()
drain() {
    local i
    for i in "${!pids[@]}"; do
        local status=0
        wait "${pids[$i]}" || status=$?
        report "${names[$i]}" "$status" || failed=1
    done
    pids=()
    names=()
}
for name in "${targets[@]}"; do
    run_target "$name" &
    pids+=($!)
    names+=("$name")
    if [ "${#pids[@]}" -ge "$jobs" ]; then
        drain
    fi
done
drain

if [ "$failed" -ne 0 ]; then
    echo "fuzz: findings above; docs/fuzzing.md says how to reproduce and minimise them"
    exit 1
fi
echo "fuzz: no finding"

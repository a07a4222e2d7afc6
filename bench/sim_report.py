#!/usr/bin/env python3
"""Runs ferry_bench and prints the simulator's figures (issue 3) and the
explorer's (issue 5), each pair measured in one run of ferry_bench:

  - BM_SimPut2KiB sessions/s (target >= 100,000) and how many times faster
    it is than BM_RealLoopbackPut2KiB (target >= 20);
  - BM_SimBulk256MiB against BM_RawLoopback256MiB/65536 (target >= 1);
  - BM_SimStall300s wall time (target < 50 ms);
  - BM_ExploreFerryAllFaults runs/s (target >= 50,000);
  - with --scaling, what a second core gives: `ferry explore --jobs 2`
    against --jobs 1 (target >= 1.8), two single-job processes side by side,
    and the machine's ceilings for arithmetic, memory latency and copying.

    bench/sim_report.py BUILD_DIR/bench/ferry_bench [--rounds N] [--scaling]

This machine's speed swings from minute to minute, and the two sides of a
ratio swing independently, so it runs N rounds (one process each, the pair
back to back) and prints every round and the median. All figures are per
wall-clock second. It stops with an error if a benchmark failed.
"""

import argparse
import json
import statistics
import subprocess
import sys


def run(bench, pattern, extra=()):
    output = subprocess.run(
        [bench, "--benchmark_format=json", f"--benchmark_filter={pattern}", *extra],
        check=True, capture_output=True, text=True).stdout
    results = {result["name"]: result for result in json.loads(output)["benchmarks"]}
    for name, result in results.items():
        # A benchmark that failed (a session that did not pass, a property
        # the explorer broke) still reports times: they are no figure.
        if result.get("error_occurred"):
            sys.exit(f"{name} failed: {result.get('error_message', '?')}")
    return results


def seconds(result):
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[result["time_unit"]]
    return result["real_time"] * scale


def find(results, prefix):
    for name, result in results.items():
        if name.startswith(prefix):
            return result
    raise KeyError(prefix)


SCALING = [
    # (label, benchmark prefix, counter): two against one, in one process run
    ("explore --jobs 2 / --jobs 1", "BM_ExploreJobs/jobs:", "runs_per_s"),
    ("arithmetic, 2 threads / 1", "BM_SpinCeiling/threads:", "steps_per_s"),
    ("pointer chasing, 2 threads / 1", "BM_MemoryCeiling/threads:", "loads_per_s"),
    ("copying in L2, 2 threads / 1", "BM_CopyCeiling/threads:", "bytes_per_s"),
]


def print_scaling(bench, rounds):
    ratios = {label: [] for label, _, _ in SCALING}
    ratios["two processes / --jobs 1"] = []
    for _ in range(rounds):
        results = run(bench, "^BM_ExploreJobs|^BM_ExploreTwoProcesses|Ceiling")
        for label, prefix, counter in SCALING:
            one = find(results, prefix + "1")[counter]
            ratios[label].append(find(results, prefix + "2")[counter] / one)
            if prefix == "BM_ExploreJobs/jobs:":
                two = find(results, "BM_ExploreTwoProcesses")["runs_per_s"]
                ratios["two processes / --jobs 1"].append(two / one)
    print(f"a second core, median of {rounds} rounds (lowest in brackets):")
    for label, values in ratios.items():
        print(f"  {label:<32} {statistics.median(values):>6.2f} ({min(values):.2f})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bench")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scaling", action="store_true")
    args = parser.parse_args()
    if args.scaling:
        print_scaling(args.bench, args.rounds)
        return

    rows = []
    for round_number in range(1, args.rounds + 1):
        put = run(args.bench, "^BM_SimPut2KiB$|^BM_RealLoopbackPut2KiB", ["--benchmark_min_time=1"])
        sim = seconds(find(put, "BM_SimPut2KiB"))
        real = seconds(find(put, "BM_RealLoopbackPut2KiB"))
        bulk = run(args.bench, "^BM_SimBulk256MiB|^BM_RawLoopback256MiB/chunk_bytes:65536/")
        sim_bulk = seconds(find(bulk, "BM_SimBulk256MiB"))
        raw_bulk = seconds(find(bulk, "BM_RawLoopback256MiB"))
        stall = seconds(find(run(args.bench, "^BM_SimStall300s$"), "BM_SimStall300s"))
        explore = find(run(args.bench, "^BM_ExploreFerryAllFaults/"), "BM_ExploreFerryAllFaults")
        # Its runs_per_s counter is per CPU-second; every figure here is per
        # wall second (the name carries the runs per iteration).
        explore_runs = int(explore["name"].split("/")[1])
        row = {
            "sim_us": sim * 1e6,
            "real_us": real * 1e6,
            "sessions_per_s": 1 / sim,
            "ratio": real / sim,
            "bulk_vs_raw": raw_bulk / sim_bulk,
            "stall_ms": stall * 1e3,
            "explore_runs_per_s": explore_runs / seconds(explore),
        }
        rows.append(row)
        print(f"round {round_number}: sim {row['sim_us']:.2f} us ({row['sessions_per_s']:,.0f}/s), "
              f"real {row['real_us']:.1f} us, ratio {row['ratio']:.1f}x; "
              f"bulk sim {sim_bulk * 1e3:.0f} ms vs raw {raw_bulk * 1e3:.0f} ms "
              f"({row['bulk_vs_raw']:.2f}); stall {row['stall_ms']:.2f} ms; "
              f"explore {row['explore_runs_per_s']:,.0f} runs/s", flush=True)

    def median(key):
        return statistics.median(row[key] for row in rows)

    def low(key):
        return min(row[key] for row in rows)

    print(f"median of {len(rows)} rounds (lowest in brackets):")
    print(f"  BM_SimPut2KiB           {median('sessions_per_s'):>10,.0f} sessions/s "
          f"({low('sessions_per_s'):,.0f})   target >= 100,000")
    print(f"  real / sim, 2 KiB PUT   {median('ratio'):>10.1f}x "
          f"({low('ratio'):.1f}x)   target >= 20x")
    print(f"  sim bulk / raw 64 KiB   {median('bulk_vs_raw'):>10.2f} "
          f"({low('bulk_vs_raw'):.2f})   target >= 1")
    print(f"  BM_SimStall300s         {median('stall_ms'):>10.2f} ms "
          f"(worst {max(row['stall_ms'] for row in rows):.2f})   target < 50 ms")
    print(f"  explore, all faults     {median('explore_runs_per_s'):>10,.0f} runs/s "
          f"({low('explore_runs_per_s'):,.0f})   target >= 50,000")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Runs ferry_bench and prints every ratio of ferry against the raw work it
does, in one table, each side measured in the same process, back to back:

  ferry put / raw loopback into a file    target >= 0.95 (paired)
  ferry put / raw into a file, hashing    the same work: both ends hash
  ferry get / raw loopback from a file    target >= 0.95 (paired)
  ferry get / raw from a file, hashing    the same work: the receiver checks
  ferry put with PUT / raw into a file    the form before PUTS (two reads)
  ferry put / raw loopback, memory only   (the ceiling: nothing written)
  simulated 256 MiB / raw loopback        the simulator against the real thing

then a simulated 1 GiB upload and download (time and peak RSS), the
server's peak RSS during a real 1 GiB upload, its RSS per idle and per
active connection, and ferry serve under 300
slow clients (a fresh client's put + get, 1,000 uploads verified).

    bench/report.py BUILD_DIR/bench/ferry_bench [--rounds N] [--skip-abuse]

Every figure is per wall-clock second (the benchmarks use UseRealTime) and
the median of N rounds. The machine's speed swings from one second to the
next, so the figures of record come from the paired benchmarks
(BM_*PairedWith*), which run ferry and raw one after the other in every
iteration; the rows marked "apart" divide two benchmarks run one after the
other, and swing more.
"""

import argparse
import json
import statistics
import subprocess
import sys

CHUNKS = (65536, 262144, 1048576)
PAIRED = [
    # (label, target, benchmark reporting ferry_over_raw)
    ("ferry put / raw loopback into a file", 0.95, "BM_PutPairedWithRaw256MiB"),
    ("ferry put / raw into a file, hashing", None, "BM_PutPairedWithHashingRaw256MiB"),
    ("ferry get / raw loopback from a file", 0.95, "BM_GetPairedWithRaw256MiB"),
    ("ferry get / raw from a file, hashing", None, "BM_GetPairedWithHashingRaw256MiB"),
    ("raw, hashing on a thread / raw from a file", None, "BM_HashingOnAThreadPairedWithRaw256MiB"),
]
RATIOS = [
    # (label, ferry benchmark, raw benchmark), run apart
    ("ferry put with PUT (before PUTS) / raw", "BM_RealPutClassic256MiB",
     "BM_RawLoopbackIntoFile256MiB"),
    ("ferry put / raw loopback, memory only", "BM_RealPut256MiB", "BM_RawLoopback256MiB"),
    ("ferry put, no disk / raw loopback", "BM_RealPut256MiBNullStore", "BM_RawLoopback256MiB"),
]


def run(bench, pattern, extra=()):
    output = subprocess.run(
        [bench, "--benchmark_format=json", f"--benchmark_filter={pattern}", *extra],
        check=True, capture_output=True, text=True).stdout
    results = {}
    for result in json.loads(output)["benchmarks"]:
        if result.get("error_occurred"):
            sys.exit(f"{result['name']} failed: {result.get('error_message', '?')}")
        results[result["name"].split("/min_time")[0].split("/iterations")[0]] = result
    return results


def transfer_figures(bench, rounds):
    """(benchmark, chunk) -> [bytes/s or ferry_over_raw], one value per round."""
    names = sorted({name for _, _, name in PAIRED} |
                   {name for _, ferry, raw in RATIOS for name in (ferry, raw)})
    pattern = "^(" + "|".join(names) + ")/"
    figures = {}
    for _ in range(rounds):
        for name, result in run(bench, pattern).items():
            benchmark, chunk = name.split("/chunk_bytes:")
            value = result.get("ferry_over_raw", result["bytes_per_second"])
            figures.setdefault((benchmark, int(chunk.split("/")[0])), []).append(value)
    return figures


def print_ratio_table(figures, sim_ratio):
    header = f"{'ratio':<46} {'target':>7}" + "".join(f"{c // 1024:>8} KiB" for c in CHUNKS)
    print(header)
    print("-" * len(header))
    for label, target, paired in PAIRED:
        cells = "".join(f"{statistics.median(figures[(paired, c)]):>12.2f}" for c in CHUNKS)
        print(f"{label + ' (paired)':<46} {'>= %.2f' % target if target else '':>7}{cells}")
    for label, ferry, raw in RATIOS:
        cells = ""
        for chunk in CHUNKS:
            ferry_rate = statistics.median(figures[(ferry, chunk)])
            raw_rate = statistics.median(figures[(raw, chunk)])
            cells += f"{ferry_rate / raw_rate:>12.2f}"
        print(f"{label + ' (apart)':<46} {'':>7}{cells}")
    if sim_ratio is not None:
        print(f"{'simulated 256 MiB / raw loopback (64 KiB)':<46} {'':>7}{sim_ratio:>12.2f}")


def wall_seconds(result):
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[result["time_unit"]]
    return result["real_time"] * scale


def sim_bulk_ratio(bench, rounds):
    ratios = []
    for _ in range(rounds):
        results = run(bench, "^BM_SimBulk256MiB/|^BM_RawLoopback256MiB/chunk_bytes:65536/")
        sim = next(r for n, r in results.items() if n.startswith("BM_SimBulk"))
        raw = next(r for n, r in results.items() if n.startswith("BM_RawLoopback"))
        # The same 256 MiB each: the ratio of speeds is that of wall times.
        ratios.append(wall_seconds(raw) / wall_seconds(sim))
    return statistics.median(ratios)


def print_abuse(bench, rounds):
    counters = {}
    for _ in range(rounds):
        for name, result in run(bench, "Slowloris").items():
            for key, value in result.items():
                if key.endswith("_ms") or key.startswith("uploads_") or key == "upload_attempts":
                    counters.setdefault((name.split("/")[0], key), []).append(value)
    print(f"ferry serve under 300 slow clients (median of {rounds}):")
    for (name, key), values in sorted(counters.items()):
        print(f"  {name:<30} {key:<26} {statistics.median(values):>10.1f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bench")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-abuse", action="store_true")
    args = parser.parse_args()

    figures = transfer_figures(args.bench, args.rounds)
    sim_ratio = sim_bulk_ratio(args.bench, args.rounds)
    print(f"medians of {args.rounds} rounds, wall-clock throughput")
    print_ratio_table(figures, sim_ratio)
    for result in run(args.bench, "^BM_SimBulk1GiB").values():
        print(f"simulated 1 GiB PUTS and GET: {wall_seconds(result) * 1000:.0f} ms, "
              f"peak RSS {result['peak_rss_mib']:.1f} MiB (target < 64)")
    for result in run(args.bench, "BM_ServerPeakRss1GiB").values():
        print(f"server peak RSS during a 1 GiB upload: {result['server_peak_rss_MiB']:.1f} MiB")
    for result in run(args.bench, "BM_ServerRssPerConnection").values():
        print(f"server RSS per connection: {result['idle_KiB_per_connection']:.1f} KiB idle "
              f"(target <= 24), {result['active_KiB_per_connection']:.1f} KiB mid-upload")
    if not args.skip_abuse:
        print_abuse(args.bench, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Runs ferry_bench and prints the figures issue 2 asks for: ferry put's
throughput as a fraction of raw loopback (target >= 0.8) per chunk size, and
the server's peak RSS during a 1 GiB upload (target < 64 MiB).

    bench/report.py BUILD_DIR/bench/ferry_bench [--repetitions N] [extra benchmark flags]

Takes the median of N repetitions; the two transfer benchmarks run
interleaved, so a noisy neighbour hurts both alike.
"""

import argparse
import json
import statistics
import subprocess
import sys


def run(bench, flags):
    output = subprocess.run([bench, "--benchmark_format=json", *flags], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output)["benchmarks"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bench")
    parser.add_argument("--repetitions", type=int, default=3)
    args, extra = parser.parse_known_args()

    rates = {}  # (benchmark, chunk) -> [bytes/s]
    for _ in range(args.repetitions):
        for name in ("BM_RawLoopback256MiB", "BM_RealPut256MiB", "BM_RealPut256MiBNullStore"):
            for result in run(args.bench, [f"--benchmark_filter={name}/", *extra]):
                chunk = result["name"].split("chunk_bytes:")[1].split("/")[0]
                rates.setdefault((name, int(chunk)), []).append(result["bytes_per_second"])

    print(f"{'chunk':>9}  {'raw MiB/s':>10}  {'ferry MiB/s':>11}  {'ratio':>5}"
          f"  {'ferry, no disk':>14}  {'ratio':>5}")
    for chunk in sorted({chunk for _, chunk in rates}):
        raw = statistics.median(rates[("BM_RawLoopback256MiB", chunk)]) / 2**20
        ferry = statistics.median(rates[("BM_RealPut256MiB", chunk)]) / 2**20
        null = statistics.median(rates[("BM_RealPut256MiBNullStore", chunk)]) / 2**20
        print(f"{chunk:>9}  {raw:>10.0f}  {ferry:>11.0f}  {ferry / raw:>5.2f}"
              f"  {null:>14.0f}  {null / raw:>5.2f}")

    print("stages alone (no network), MiB/s:")
    tmpfs = {}  # chunk -> bytes/s of BM_TmpfsWrite256MiB
    for result in run(args.bench, ["--benchmark_filter=BM_TmpfsWrite|BM_DigestPass", *extra]):
        print(f"  {result['name'].split('/min_time')[0]:<45} "
              f"{result['bytes_per_second'] / 2**20:>8.0f}")
        if result["name"].startswith("BM_TmpfsWrite256MiB"):
            chunk = int(result["name"].split("chunk_bytes:")[1].split("/")[0])
            tmpfs[chunk] = result["bytes_per_second"]
    # The server must write every byte to tmpfs: even if receiving and
    # writing overlapped perfectly, ferry could not beat the slower of the two.
    for chunk, write_rate in sorted(tmpfs.items()):
        raw = statistics.median(rates[("BM_RawLoopback256MiB", chunk)])
        print(f"  ceiling for the ratio at {chunk} B (tmpfs write / raw): "
              f"{min(1.0, write_rate / raw):.2f}")
    for result in run(args.bench, ["--benchmark_filter=BM_ServerPeakRss1GiB", *extra]):
        print(f"server peak RSS during a 1 GiB upload: {result['server_peak_rss_MiB']:.1f} MiB "
              f"(upload at {result['bytes_per_second'] / 2**20:.0f} MiB/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

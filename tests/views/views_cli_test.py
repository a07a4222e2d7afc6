#!/usr/bin/env python3
"""Where the views appear, from the outside: `ferry sim --svg/--pcap/--perfetto`
(and its error for a file it cannot write), `ferry scenario run --trace-dir`
for a failing scenario (and --trace-all for passing ones), and `ferry explore
--save-failures` beside each scenario file it saves.

    views_cli_test.py FERRY CASE
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

EXIT_FAILED, EXIT_USAGE, EXIT_DEADLOCK = 1, 2, 3

# A scenario of the chapter's deadlock that expects a pass: it fails.
FAILING_SCENARIO = """name = "naive: exactly one chunk, wrongly expected to pass"
protocol = "naive"
backends = ["sim"]
seeds = [2, 2]
chunk_size = 1024

[[client]]
steps = [{ put = "one-chunk.bin", size = 1024 }]

[expect]
outcome = "pass"
"""


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


def expect(condition, message):
    if not condition:
        sys.exit(message)


def check_views(stem):
    """The three files of stem exist and parse as what they are."""
    svg, pcap, perfetto = (pathlib.Path(f"{stem}{ext}") for ext in
                           (".svg", ".pcap", ".perfetto.json"))
    ET.parse(svg)
    expect(pcap.read_bytes()[:4] == bytes.fromhex("4d3cb2a1"), f"{pcap} is not a pcap")
    expect("traceEvents" in json.loads(perfetto.read_text()), f"{perfetto} has no traceEvents")


def case_sim(ferry, tmp):
    stem = tmp / "run"
    result = run(ferry, "sim", "--workload", "naive", "--size", "1024", "--svg", f"{stem}.svg",
                 "--pcap", f"{stem}.pcap", "--perfetto", f"{stem}.perfetto.json")
    expect(result.returncode == EXIT_DEADLOCK, f"exit {result.returncode}: {result.stderr}")
    last = result.stdout.rstrip().splitlines()[-1]
    expect(last == f"views: {stem}.svg {stem}.pcap {stem}.perfetto.json", last)
    check_views(stem)
    bad = tmp / "no-such-folder" / "run.svg"
    result = run(ferry, "sim", "--workload", "naive", "--size", "1024", "--svg", str(bad))
    expect(result.returncode == EXIT_USAGE, f"exit {result.returncode} for an unwritable file")
    expect(f"cannot write {bad}" in result.stderr, result.stderr)
    result = run(ferry, "sim", "--workload", "naive", "--size", "1024", "--seeds", "1..2",
                 "--pcap", str(tmp / "x.pcap"))
    expect(result.returncode == EXIT_USAGE and "single --seed" in result.stderr, result.stderr)


def case_scenario(ferry, tmp):
    scenario = tmp / "wrong.toml"
    scenario.write_text(FAILING_SCENARIO)
    views = tmp / "views"
    result = run(ferry, "scenario", "run", str(scenario), "--trace-dir", str(views))
    expect(result.returncode == EXIT_FAILED, f"exit {result.returncode}: {result.stderr}")
    stem = views / "wrong-sim-seed2"
    expected = f"views: {stem}.svg {stem}.pcap {stem}.perfetto.json"
    lines = result.stdout.splitlines()
    failure_end = lines.index("") - 1  # the failure's text, then a blank line, then totals
    expect(lines[failure_end].strip() == expected, result.stdout)
    check_views(stem)
    passing = pathlib.Path(__file__).parents[2] / "scenarios" / "chapter" / \
        "naive-exactly-one-chunk-deadlocks.toml"
    result = run(ferry, "scenario", "run", str(passing), "--backend", "sim", "--seed", "3",
                 "--trace-dir", str(views), "--trace-all")
    expect(result.returncode == 0, result.stdout + result.stderr)
    check_views(views / "naive-exactly-one-chunk-deadlocks-sim-seed3")
    result = run(ferry, "scenario", "run", str(scenario), "--trace-dir", "/proc/ferry-no")
    expect(result.returncode == EXIT_USAGE and "--trace-dir /proc/ferry-no" in result.stderr,
           result.stderr)


def case_explore(ferry, tmp):
    found = tmp / "found"
    result = run(ferry, "explore", "--workload", "naive", "--runs", "200", "--jobs", "1",
                 "--save-failures", str(found))
    expect(result.returncode == EXIT_DEADLOCK, f"exit {result.returncode}: {result.stderr}")
    tomls = sorted(found.glob("*.toml"))
    expect(tomls, f"no scenario saved: {result.stdout}")
    for toml in tomls:
        check_views(toml.with_suffix(""))
        expect(f"views: {toml.with_suffix('.svg')}" in result.stdout, result.stdout)


def main():
    ferry, case = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        globals()[f"case_{case}"](ferry, pathlib.Path(tmp))
    print(f"{case}: ok")


if __name__ == "__main__":
    main()

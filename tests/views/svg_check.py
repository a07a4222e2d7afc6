#!/usr/bin/env python3
"""Checks `ferry sim --svg` on the chapter's deadlock from the outside.

  svg_check.py FERRY structure        the SVG parses as XML, is self-contained
                                      and has the lanes, arrow and red cycle
  svg_check.py FERRY render RSVG      rsvg-convert renders it to a sensible PNG
  svg_check.py FERRY readme ROOT      docs/img/naive-deadlock.svg is what the
                                      README's command draws today
"""
import pathlib
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SVG_NS = "{http://www.w3.org/2000/svg}"
# The README's command, with the file it writes replaced.
DEADLOCK_COMMAND = ["sim", "--workload", "naive", "--size", "1024", "--svg"]


def draw_deadlock(ferry, path):
    run = subprocess.run([ferry, *DEADLOCK_COMMAND, str(path)], capture_output=True, text=True)
    if run.returncode != 3:
        sys.exit(f"expected the deadlock's exit 3, got {run.returncode}: {run.stderr}")
    if not run.stdout.rstrip().endswith(str(path)):
        sys.exit(f"the output does not end with the SVG's path:\n{run.stdout}")


def check_structure(svg_path):
    root = ET.parse(svg_path).getroot()
    assert root.tag == SVG_NS + "svg", root.tag
    text = svg_path.read_text()
    for banned in ("<script", "@import", "@font-face", "http://www.w3.org/1999/xlink", "href="):
        assert banned not in text, f"not self-contained: {banned}"
    texts = [(e.get("class"), "".join(e.itertext())) for e in root.iter(SVG_NS + "text")]
    titles = {t for c, t in texts if c == "title"}
    for lane in ("server", "client 1", "server conn 1"):
        assert lane in titles, f"no lane {lane!r} in {titles}"
    lines = [e.get("class") for e in root.iter(SVG_NS + "line")]
    assert lines.count("arrow") == 1, lines
    assert lines.count("cycle") == 2, lines
    cycle = [t for c, t in texts if c == "cycletext"]
    assert "deadlock: wait-for cycle" in cycle, cycle
    assert "recv(conn 1) waits on server conn 1" in cycle, cycle
    assert "recv(conn 1) waits on client 1" in cycle, cycle
    blocked = [e for e in root.iter(SVG_NS + "rect") if e.get("class") == "blocked"]
    assert len(blocked) >= 3, len(blocked)


def check_render(svg_path, rsvg):
    png = svg_path.with_suffix(".png")
    subprocess.run([rsvg, str(svg_path), "-o", str(png)], check=True)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    assert 400 <= width <= 4000 and 200 <= height <= 4000, (width, height)
    assert len(data) > 5000, f"a {len(data)}-byte PNG draws next to nothing"


def check_readme(ferry, svg_path, root):
    checked_in = root / "docs" / "img" / "naive-deadlock.svg"
    if svg_path.read_bytes() != checked_in.read_bytes():
        sys.exit(f"{checked_in} is stale; regenerate it with\n"
                 f"  ferry {' '.join(DEADLOCK_COMMAND)} docs/img/naive-deadlock.svg")
    readme = (root / "README.md").read_text()
    command = "ferry " + " ".join(DEADLOCK_COMMAND) + " docs/img/naive-deadlock.svg"
    assert command in readme, f"README.md does not give {command!r}"
    assert "docs/img/naive-deadlock.svg" in readme


def main():
    ferry, mode = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        svg_path = pathlib.Path(tmp) / "naive-deadlock.svg"
        draw_deadlock(ferry, svg_path)
        if mode == "structure":
            check_structure(svg_path)
        elif mode == "render":
            check_render(svg_path, sys.argv[3])
        elif mode == "readme":
            check_readme(ferry, svg_path, pathlib.Path(sys.argv[3]))
        else:
            sys.exit(f"unknown mode {mode}")
    print(f"{mode}: ok")


if __name__ == "__main__":
    main()

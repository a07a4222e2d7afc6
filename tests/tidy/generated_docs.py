#!/usr/bin/env python3
"""The generated parts of the docs are what the program prints now: each
section between '<!-- ferry CMD: generated ... -->' and '<!-- end ferry CMD -->'
in DOC must equal the output of `ferry CMD`.

Usage: generated_docs.py [--write] FERRY DOC...
  --write  regenerates the sections instead of checking them.
"""
import re
import subprocess
import sys


def main():
    args = sys.argv[1:]
    write = bool(args) and args[0] == "--write"
    if write:
        args = args[1:]
    ferry, docs = args[0], args[1:]
    failed = False
    for doc in docs:
        text = open(doc, encoding="utf-8").read()
        for command, body in re.findall(
                r"<!-- ferry (\w+): generated[^>]*-->\n(.*?)<!-- end ferry \1 -->", text, re.S):
            now = subprocess.run([ferry, command], capture_output=True, text=True, check=True).stdout
            if now != body and write:
                text = text.replace(body, now)
                with open(doc, "w", encoding="utf-8") as out:
                    out.write(text)
                print(f"{doc}: regenerated the section of `ferry {command}`")
            elif now != body:
                print(f"{doc}: the section of `ferry {command}` is stale; regenerate it "
                      f"with {sys.argv[0]} --write {ferry} {doc}")
                print(f"  the program prints {len(now.splitlines())} lines, the doc holds "
                      f"{len(body.splitlines())}")
                failed = True
            else:
                print(f"{doc}: `ferry {command}` is current")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

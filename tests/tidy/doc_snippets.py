#!/usr/bin/env python3
"""Every code snippet of a guide is a file that CI compiles: each fenced
block of C++ or CMake in DOC must follow a '<!-- file: PATH -->' line and
equal the file at PATH (relative to the repository) whole, so a snippet
shows its includes and cannot drift from what is built.

Usage: doc_snippets.py [--write] REPOSITORY DOC...
  --write  copies the files into the blocks instead of checking them.
"""
import os
import re
import sys

BLOCK = re.compile(r"(<!-- file: (?P<path>[^ ]+) -->\n)?```(?P<lang>cpp|cmake)\n(?P<body>.*?)```",
                   re.S)


def check(repository, doc, write):
    path_of_doc = os.path.join(repository, doc)
    text = open(path_of_doc, encoding="utf-8").read()
    problems = []
    blocks = 0

    def replace(match):
        nonlocal blocks
        blocks += 1
        line = text.count("\n", 0, match.start()) + 1
        if not match.group("path"):
            problems.append(f"{doc}:{line}: a {match.group('lang')} block without "
                            f"'<!-- file: PATH -->' before it: CI compiles no such snippet")
            return match.group(0)
        source = open(os.path.join(repository, match.group("path")), encoding="utf-8").read()
        if source != match.group("body"):
            if write:
                return (f"<!-- file: {match.group('path')} -->\n```{match.group('lang')}\n"
                        f"{source}```")
            problems.append(f"{doc}:{line}: the block differs from {match.group('path')}; "
                            f"copy it with {sys.argv[0]} --write {repository} {doc}")
        return match.group(0)

    new_text = BLOCK.sub(replace, text)
    if write and new_text != text:
        with open(path_of_doc, "w", encoding="utf-8") as out:
            out.write(new_text)
        print(f"{doc}: snippets copied from their files")
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{doc}: {blocks} snippets, each a compiled file")
    return not problems


def main():
    args = sys.argv[1:]
    write = bool(args) and args[0] == "--write"
    if write:
        args = args[1:]
    repository, docs = args[0], args[1:]
    results = [check(repository, doc, write) for doc in docs]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""No function in the given folders is longer than 70 lines (TigerStyle's
limit, kept by a test like any other). A function's length is the lines from
its header's opening brace to its closing one. On failure, lists every
function over the limit, longest first; with --top N it prints the N longest
anyway.

Usage: function_length.py ROOT FOLDER... [--limit 70] [--top N]
"""
import argparse
import pathlib
import re
import sys

HEADER_END = re.compile(
    r"\)\s*(const\s*)?(noexcept\s*)?(override\s*)?(final\s*)?(->\s*[\w:<>,\s\*&]+)?\s*$")
NOT_FUNCTIONS = re.compile(r"\b(if|for|while|switch|catch|return)\s*\(")


def strip(text):
    """The text with comments, strings and character literals blanked out,
    newlines kept, so brace counting and line numbers stay right."""
    out = []
    i, n = 0, len(text)
    while i < n:
        two = text[i:i + 2]
        if two == "//":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif two == "/*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text[i] == "'" and 0 < i < n - 1 and text[i - 1].isalnum() and text[i + 1].isalnum():
            out.append(" ")  # a digit separator: 30'000
            i += 1
        elif text[i] in "\"'":
            quote, j = text[i], i + 1
            while j < n and text[j] != quote:
                j += 2 if text[j] == "\\" else 1
            out.append(quote + re.sub(r"[^\n]", " ", text[i + 1:j]) + quote)
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def functions(path):
    """(name, first line, length) of each function defined in path."""
    text = strip(path.read_text(errors="replace"))
    found, stack = [], []  # stack: (is_function, name, line) per open brace
    statement_start = 0
    line = 1
    for i, ch in enumerate(text):
        if ch == "\n":
            line += 1
        elif ch in ";":
            statement_start = i + 1
        elif ch == "{":
            header = text[statement_start:i]
            inside_function = any(f for f, _, _ in stack)
            is_function = (not inside_function and HEADER_END.search(header) is not None
                           and NOT_FUNCTIONS.search(header) is None)
            name = ""
            if is_function:
                match = re.search(r"([\w:~]+)\s*\(", header)
                name = match.group(1) if match else "?"
            stack.append((is_function, name, line))
            statement_start = i + 1
        elif ch == "}":
            if stack:
                is_function, name, first = stack.pop()
                if is_function:
                    found.append((name, first, line - first + 1))
            statement_start = i + 1
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--limit", type=int, default=70)
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()
    every = []
    for folder in args.folders:
        for path in sorted(pathlib.Path(args.root, folder).rglob("*")):
            if path.suffix in (".cpp", ".h"):
                for name, first, length in functions(path):
                    every.append((length, f"{path.relative_to(args.root)}:{first}", name))
    every.sort(reverse=True)
    long = [f for f in every if f[0] > args.limit]
    for length, where, name in long or every[:args.top]:
        print(f"{length:4} lines  {where}  {name}")
    if long:
        print(f"{len(long)} functions over {args.limit} lines: split them into named steps.")
        return 1
    print(f"{len(every)} functions, none over {args.limit} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())

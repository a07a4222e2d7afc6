#!/usr/bin/env python3
"""Interop of ferry's naive protocol with the chapter's Python programs.

    interop_test.py FERRY CASE

- python_client_vs_ferry_serve_SIZE: client_chunk.py uploads SIZE random bytes
  to `ferry serve --protocol naive`; the server must store upload-1 with the
  same bytes and the client must print the count.
- ferry_put_vs_python_server_SIZE: `ferry put --protocol naive` uploads to
  server_chunk.py; ferry must print the count the server replied and the
  server must have received the same bytes.

Sizes avoid 0 and multiples of CHUNK_SIZE (1024): those deadlock by design.
Every wait is bounded.
"""

import os
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
from ferry_harness import (TempDir, Server, TestFailure, check, describe, expect_exit, run,
                           same_bytes, write_random)

SIZES = [1000, 1025, 3 * 1024 + 7, 40001]  # one loopback segment each: see CMakeLists.txt


def python_client_vs_ferry_serve(ferry, size):
    with TempDir() as root, TempDir() as work:
        source = os.path.join(work, "payload")
        write_random(source, size, seed=size)
        with Server(ferry, root, ["--protocol", "naive"]) as server:
            result = expect_exit(
                run([sys.executable, os.path.join(HERE, "client_chunk.py"), server.host,
                     str(server.port), source, "--timeout", "20"], timeout=60), 0)
            lines = result.stdout.decode().splitlines()
            check(lines == [f"client sent {size} bytes", f"client received {size}"],
                  describe(result))
        stored = os.path.join(root, "upload-1")
        check(os.path.exists(stored), f"the server stored nothing: {os.listdir(root)}")
        check(same_bytes(source, stored), "upload-1 differs from the bytes sent")


def ferry_put_vs_python_server(ferry, size):
    with TempDir() as work:
        source = os.path.join(work, "payload")
        received = os.path.join(work, "received")
        write_random(source, size, seed=size + 1)
        server = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "server_chunk.py"), "127.0.0.1", "0",
             "--save", received, "--once"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            first = []
            reader = threading.Thread(
                target=lambda: first.append(server.stdout.readline().decode().strip()),
                daemon=True)
            reader.start()
            reader.join(20)
            check(first and first[0].startswith("listening on "),
                  f"server_chunk.py did not start: {first}")
            address = first[0][len("listening on "):]
            result = expect_exit(
                run([ferry, "put", source, "--protocol", "naive", "--server", address,
                     "--timeout-ms", "20000"], timeout=60), 0)
            check(result.stdout.decode() == f"{size}\n", describe(result))
            out, err = server.communicate(timeout=20)
            check(server.returncode == 0, f"server_chunk.py exited {server.returncode}: {err!r}")
            check(f"about to reply {size}".encode() in out, f"server said {out!r}")
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        check(same_bytes(source, received), "server_chunk.py received different bytes")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ferry = os.path.abspath(sys.argv[1])
    case, _, size = sys.argv[2].rpartition("_")
    cases = {"python_client_vs_ferry_serve": python_client_vs_ferry_serve,
             "ferry_put_vs_python_server": ferry_put_vs_python_server}
    if case not in cases or not size.isdigit():
        print(f"unknown case {sys.argv[2]}", file=sys.stderr)
        return 2
    try:
        cases[case](ferry, int(size))
    except TestFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""kill -9 of the real `ferry serve` at random points of many uploads, then a
restart on the same directory, and the durability promises checked at each
kill point (docs/protocol.md, "Atomicity and durability"):

- every upload acknowledged with OK before the kill is there, byte for byte;
- every name holds its previous content or one complete upload (nothing torn);
- no temporary file is left once the restarted server is listening.

Several clients upload at once, each to names of its own, files of 1 byte to
8 MiB (log-uniform sizes); the kill comes at a random moment of that, so it
lands in request lines, bodies, fsyncs, renames and startup cleanups alike.
Where `unshare` can make a pid namespace, every server runs as pid 1, as in a
container: the case in which temporary files named by pid leaked for ever.

    crash_test.py FERRY [--kill-points N] [--seed S] [--clients C]
                        [--max-size-bytes B] [--no-pid-namespace]

CTest runs a handful of kill points; the figure of issue 12 is 200
(scripts/crash_test.sh). Exits 0 when every kill point checked out, 1 with
the first violation otherwise.
"""

import argparse
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

START_TIMEOUT_S = 30
SOCKET_TIMEOUT_S = 30


class Violation(Exception):
    pass


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    try:
        with open(path, "rb") as f:
            return sha256(f.read())
    except FileNotFoundError:
        return None


def pid_namespace_works():
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "--kill-child", "true"],
                              capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Server:
    """One `ferry serve` process on root; kill() is kill -9 (of the whole
    pid namespace when there is one: --kill-child passes it on)."""

    def __init__(self, ferry, root, pid_namespace):
        args = [ferry, "serve", "--root", root, "--port", "0"]
        if pid_namespace:
            args = ["unshare", "--pid", "--fork", "--kill-child", *args]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)
        line = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        text = line[0].decode().strip() if line else ""
        if not text.startswith("listening on "):
            self.process.kill()
            raise Violation(f"the server did not start: first line {text!r}")
        self.port = int(text.rsplit(":", 1)[1])

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


class Name:
    """What the test knows about one name: its versions, in order, as
    hashes (None = no file), the last acknowledged and the last attempted."""

    def __init__(self, name):
        self.name = name
        self.versions = [None]
        self.acknowledged = 0
        self.attempted = 0

    def allowed(self):
        return self.versions[self.acknowledged:self.attempted + 1]

    def settle(self, found):
        self.versions = [found]
        self.acknowledged = self.attempted = 0


def put(port, name, data):
    """One ferry/1 PUT over a raw socket: True when acknowledged with OK,
    False when refused, None when the connection broke first."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S) as conn:
            conn.sendall(f"PUT {name} {len(data)}\n".encode())
            view = memoryview(data)
            for start in range(0, len(data), 1 << 20):
                conn.sendall(view[start:start + (1 << 20)])
            reply = b""
            while not reply.endswith(b"\n"):
                piece = conn.recv(4096)
                if not piece:
                    return None
                reply += piece
            return reply.startswith(b"OK ")
    except OSError:
        return None


def client_loop(port, names, rng, max_size, stop, stats):
    while not stop.is_set():
        entry = rng.choice(names)
        size = max(1, min(max_size, int(2 ** rng.uniform(0, 23))))
        data = rng.randbytes(size)
        entry.versions.append(sha256(data))
        entry.attempted = len(entry.versions) - 1
        outcome = put(port, entry.name, data)
        stats["uploads"] += 1
        stats["bytes_max"] = max(stats["bytes_max"], size)
        if outcome is True:
            entry.acknowledged = entry.attempted
            stats["acknowledged"] += 1
        elif outcome is None:
            stats["cut_short"] += 1
            return  # the server is gone
        else:
            # A refusal after the body (ERR 500) may or may not have stored
            # it: the version stays among the allowed ones.
            stats["refused"] += 1


def check_root(root, names, after_restart):
    for entry in names:
        found = file_sha256(os.path.join(root, entry.name))
        if found not in entry.allowed():
            state = ("absent" if found is None else
                     "torn or stale" if found not in entry.versions else "an older version")
            raise Violation(f"{entry.name} is {state}: acknowledged version "
                            f"{entry.acknowledged}, attempted up to {entry.attempted}")
        entry.settle(found)
    if after_restart:
        leftovers = [n for n in os.listdir(root) if n.startswith(".ferry-tmp-")]
        if leftovers:
            raise Violation(f"temporary files survived the restart: {leftovers}")


def kill_point(ferry, root, names_by_client, rng, args, stats, server):
    """Uploads until a random moment, kills the server, checks, restarts it
    (which checks the cleanup) and returns the new server."""
    stop = threading.Event()
    threads = []
    for c, names in enumerate(names_by_client):
        client_rng = random.Random(rng.getrandbits(64))
        threads.append(threading.Thread(
            target=client_loop, args=(server.port, names, client_rng, args.max_size_bytes,
                                      stop, stats), daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(rng.uniform(0, args.window_ms) / 1000)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(SOCKET_TIMEOUT_S * 2)
    all_names = [entry for names in names_by_client for entry in names]
    left = [n for n in os.listdir(root) if n.startswith(".ferry-tmp-")]
    stats["temp_files_left_by_kills"] += len(left)
    check_root(root, all_names, after_restart=False)
    server = Server(ferry, root, args.pid_namespace)
    check_root(root, all_names, after_restart=True)
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ferry")
    parser.add_argument("--kill-points", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--max-size-bytes", type=int, default=8 * 1024 * 1024)
    parser.add_argument("--window-ms", type=float, default=400,
                        help="the kill comes within this long of the uploads starting")
    parser.add_argument("--no-pid-namespace", dest="pid_namespace", action="store_false")
    args = parser.parse_args()
    if args.pid_namespace and not pid_namespace_works():
        args.pid_namespace = False
    rng = random.Random(args.seed)
    stats = {"uploads": 0, "acknowledged": 0, "cut_short": 0, "refused": 0, "bytes_max": 0,
             "temp_files_left_by_kills": 0}
    names_by_client = [[Name(f"c{c}-{n}") for n in range(3)] for c in range(args.clients)]
    root = tempfile.mkdtemp(prefix="ferry-crash-")
    started = time.monotonic()
    server = None
    try:
        server = Server(args.ferry, root, args.pid_namespace)
        for point in range(1, args.kill_points + 1):
            try:
                server = kill_point(args.ferry, root, names_by_client, rng, args, stats, server)
            except Violation as violation:
                print(f"FAILED at kill point {point} (seed {args.seed}): {violation}\n"
                      f"reproduce: {sys.argv[0]} {args.ferry} --kill-points {point} "
                      f"--seed {args.seed}", file=sys.stderr)
                return 1
    finally:
        if server is not None and server.process.poll() is None:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{args.kill_points} kill -9 points in {time.monotonic() - started:.1f} s"
          f"{' (servers as pid 1)' if args.pid_namespace else ''}: {stats['uploads']} uploads "
          f"of 1 byte to {stats['bytes_max']} bytes, {stats['acknowledged']} acknowledged, "
          f"{stats['cut_short']} cut short by a kill, {stats['refused']} refused; "
          f"{stats['temp_files_left_by_kills']} temporary files left by kills, all removed "
          f"by the restarts; nothing acknowledged lost, nothing torn")
    return 0


if __name__ == "__main__":
    sys.exit(main())

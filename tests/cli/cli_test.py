#!/usr/bin/env python3
"""End-to-end tests of the ferry executable: `ferry serve` on an ephemeral
port, driven by `ferry put`, `get` and `dir`, and by raw sockets where the
CLI would refuse to send something.

    cli_test.py FERRY CASE     (CTest runs one case per test)
"""

import json
import os
import re
import signal
import stat
import shutil
import select
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferry_harness import (TempDir, Server, TestFailure, check, describe, expect_exit, main,
                           run, same_bytes, skip_under_sanitizers, snapshot, write_random)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def client(ferry, server, *args, timeout_ms=20000):
    return [ferry, *args, "--server", server.address, "--timeout-ms", str(timeout_ms)]


def roundtrip(ferry, sizes):
    with TempDir() as root, TempDir() as work:
        with Server(ferry, root) as server:
            for size in sizes:
                name = f"file-{size}.bin"
                source = os.path.join(work, name)
                write_random(source, size, seed=size)
                result = expect_exit(run(client(ferry, server, "put", source)), EXIT_OK)
                check(f"{size} bytes".encode() in result.stdout, describe(result))
                check(same_bytes(source, os.path.join(root, name)),
                      f"{name}: the server's copy differs")
                copy = os.path.join(work, "copy-" + name)
                expect_exit(run(client(ferry, server, "get", name, "-o", copy)), EXIT_OK)
                check(same_bytes(source, copy), f"{name}: the downloaded copy differs")
            listing = expect_exit(run(client(ferry, server, "dir")), EXIT_OK)
            lines = [line.split() for line in listing.stdout.decode().splitlines()]
            expected = sorted([str(size), f"file-{size}.bin"] for size in sizes)
            expected.sort(key=lambda entry: entry[1])
            check(lines == expected, f"dir listed {lines}, expected {expected}")
            plain = listing.stdout.decode().splitlines()
            check(all(line == " ".join(words) for line, words in zip(plain, lines)),
                  f"dir into a pipe should print '<size> <name>' with one space: {plain}")
            leftovers = [n for n in os.listdir(work) if n.startswith(".")]
            check(not leftovers, f"temporary files left beside downloads: {leftovers}")


def case_roundtrip_small(ferry):
    roundtrip(ferry, [0, 1, 1023, 1024, 1025, 3 * 1024 + 7])


def case_roundtrip_50mib(ferry):
    roundtrip(ferry, [50 * 1024 * 1024])


def case_several_requests_one_connection(ferry):
    """Drives ferry/1 by hand: PUT, DIR, GET, GET 404 on one connection."""
    with TempDir() as root, Server(ferry, root) as server:
        with socket.create_connection((server.host, server.port), timeout=10) as conn:
            conn.sendall(b"PUT hello.txt 6\nhello\nDIR\nGET hello.txt\nGET nope\n")
            conn.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := conn.recv(65536):
                reply += chunk
        lines = reply.split(b"\n")
        check(lines[0].startswith(b"OK 6 ") and len(lines[0]) == 5 + 32, f"PUT: {reply!r}")
        digest = lines[0][5:]
        check(lines[1:3] == [b"OK 1", b"6 hello.txt"], f"DIR: {reply!r}")
        check(lines[3] == b"OK 6 " + digest and lines[4] == b"hello", f"GET: {reply!r}")
        check(lines[5].startswith(b"ERR 404"), f"GET nope: {reply!r}")


BAD_NAMES = ["..", "../x", "/etc/passwd", "a/b", ".hidden", "", "a" * 256, "a b",
             "caf\u00e9.txt", "x\\y", ".", "tab\there"]
DASH_NAMES = ["-rf", "--help", "-"]


def case_bad_names_refused(ferry):
    # The root lives in a private folder, so that folder (its parent) must
    # stay exactly as it is: nothing written beside the root either.
    with TempDir() as outer, TempDir() as work:
        root = os.path.join(outer, "root")
        os.mkdir(root)
        source = os.path.join(work, "source.txt")
        with open(source, "wb") as out:
            out.write(b"payload")
        with open(os.path.join(root, "keep.txt"), "wb") as out:
            out.write(b"existing")
        parent = os.path.dirname(root)
        before_root = snapshot(root)
        before_parent = sorted(os.listdir(parent))
        with Server(ferry, root) as server:
            for name in BAD_NAMES:
                # The client refuses before connecting: usage error.
                result = run(client(ferry, server, "put", source, "--as", name))
                expect_exit(result, EXIT_USAGE)
                check(b"not a name the server accepts" in result.stderr, describe(result))
                result = run(client(ferry, server, "get", name, "-o", os.path.join(work, "out")))
                expect_exit(result, EXIT_USAGE)
            # A leading dash (an option to any shell tool in the server's
            # folder): passed so the command line does not read it as one.
            for name in DASH_NAMES:
                result = run(client(ferry, server, "put", source, f"--as={name}"))
                expect_exit(result, EXIT_USAGE)
                check(b"not a name the server accepts" in result.stderr, describe(result))
                result = run([ferry, "get", "--server", server.address, "-o",
                              os.path.join(work, "out"), "--", name])
                expect_exit(result, EXIT_USAGE)
                check(b"not a name the server accepts" in result.stderr, describe(result))
            # The server refuses them too, when a client sends them anyway
            # (and NUL, which no command line can carry).
            for name in [n.encode() for n in BAD_NAMES + DASH_NAMES
                         if n and " " not in n and "\t" not in n] + [b"a\x00b", b"nul\x00"]:
                with socket.create_connection((server.host, server.port), timeout=10) as conn:
                    conn.sendall(b"PUT " + name + b" 7\npayload")
                    reply = conn.recv(1024)
                check(reply.startswith(b"ERR 403") or reply.startswith(b"ERR 400"),
                      f"PUT {name!r} got {reply!r}")
                with socket.create_connection((server.host, server.port), timeout=10) as conn:
                    conn.sendall(b"GET " + name + b"\n")
                    reply = conn.recv(1024)
                check(reply.startswith(b"ERR 403") or reply.startswith(b"ERR 400"),
                      f"GET {name!r} got {reply!r}")
            # A file whose own base name is not allowed needs --as.
            hidden = os.path.join(work, ".secret")
            with open(hidden, "wb") as out:
                out.write(b"x")
            result = expect_exit(run(client(ferry, server, "put", hidden)), EXIT_USAGE)
            check(b"--as" in result.stderr, describe(result))
        check(snapshot(root) == before_root, f"root changed: {snapshot(root)} vs {before_root}")
        check(sorted(os.listdir(parent)) == before_parent, "the root's parent changed")
        check(sorted(os.listdir(work)) == [".secret", "source.txt"],
              f"work dir changed: {os.listdir(work)}")


def case_exit_codes(ferry):
    with TempDir() as root, TempDir() as work:
        source = os.path.join(work, "a.txt")
        with open(source, "wb") as out:
            out.write(b"abc")
        # Usage errors: no subcommand, unknown option, missing argument.
        expect_exit(run([ferry]), EXIT_USAGE)
        expect_exit(run([ferry, "put"]), EXIT_USAGE)
        expect_exit(run([ferry, "put", source, "--no-such-option"]), EXIT_USAGE)
        expect_exit(run([ferry, "frobnicate"]), EXIT_USAGE)
        expect_exit(run([ferry, "put", source, "--server", "no-port-here"]), EXIT_USAGE)
        expect_exit(run([ferry, "serve", "--root", os.path.join(work, "missing")]), EXIT_USAGE)
        expect_exit(run([ferry, "serve", "--port", "70000"]), EXIT_USAGE)
        # Numbers out of range are named in words, not against a 309-digit bound.
        for command, words in ((["dir", "--timeout-ms", "0"], b"'0' is less than 1"),
                               (["dir", "--timeout-ms", "abc"], b"'abc' is not a whole number"),
                               (["sim", "--size", "-1"], b"'-1' is not a whole number"),
                               (["sim", "--size", "99999999999999999999"], b"is too large")):
            result = expect_exit(run([ferry, *command]), EXIT_USAGE)
            check(words in result.stdout + result.stderr, describe(result))
        # An unwritable --results fails before exploring, not after.
        result = expect_exit(run([ferry, "explore", "--workload", "naive", "--runs", "100000000",
                                  "--results", os.path.join(work, "missing", "r.json")]),
                             EXIT_USAGE)
        check(b"cannot write" in result.stderr, describe(result))
        with Server(ferry, root) as server:
            # A local file that does not exist, or is a directory.
            result = expect_exit(
                run(client(ferry, server, "put", os.path.join(work, "missing.txt"))), EXIT_USAGE)
            check(b"missing.txt" in result.stderr, describe(result))
            expect_exit(run(client(ferry, server, "put", work, "--as", "d")), EXIT_USAGE)
            # The chapter's protocol cannot download or list.
            expect_exit(run(client(ferry, server, "get", "a.txt", "--protocol", "naive")),
                        EXIT_USAGE)
            expect_exit(run(client(ferry, server, "dir", "--protocol", "naive")), EXIT_USAGE)
            # ERR 404 is a remote error; the message names file, server, ERR line.
            target = os.path.join(work, "keep.txt")
            with open(target, "wb") as out:
                out.write(b"do not clobber")
            result = expect_exit(run(client(ferry, server, "get", "nope.txt", "-o", target)),
                                 EXIT_FAILED)
            message = result.stderr.decode()
            check("nope.txt" in message and server.address in message and "ERR 404" in message,
                  describe(result))
            with open(target, "rb") as kept:
                check(kept.read() == b"do not clobber", "a failed get replaced the target")
            check(sorted(os.listdir(work)) == ["a.txt", "keep.txt"],
                  f"a failed get left files: {os.listdir(work)}")
            # Success, and the environment variable for the server.
            env = dict(os.environ, FERRY_SERVER=server.address)
            expect_exit(run([ferry, "put", source], env=env), EXIT_OK)
            result = expect_exit(run([ferry, "get", "a.txt", "-o", "-"], env=env), EXIT_OK)
            check(result.stdout == b"abc", f"get -o - wrote {result.stdout!r}")
            # get into a directory writes NAME inside it.
            expect_exit(run([ferry, "get", "a.txt", "-o", root + "/../" +
                             os.path.basename(work)], env=env), EXIT_OK)
        # Nothing listens any more: connection refused.
        result = expect_exit(run([ferry, "dir", "--server", server.address]), EXIT_FAILED)
        check(server.address.encode() in result.stderr, describe(result))


class FakeServer:
    """A one-connection-at-a-time ferry/1 impostor: reads a request line and
    answers with fixed bytes, for replies a real server never sends. With
    hold, it then keeps the connection open, silent, until closed (a server
    that stalls mid-body)."""

    def __init__(self, reply, hold=False):
        self.reply = reply
        self.hold = threading.Event() if hold else None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(20)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            while True:
                conn, _ = self.listener.accept()
                with conn:
                    conn.settimeout(10)
                    line = b""
                    while not line.endswith(b"\n"):
                        byte = conn.recv(1)
                        if not byte:
                            break
                        line += byte
                    conn.sendall(self.reply)
                    if self.hold:
                        self.hold.wait(60)
        except OSError:
            pass

    def close(self):
        if self.hold:
            self.hold.set()
        self.listener.close()


def case_corrupt_download_leaves_nothing(ferry):
    """A body whose digest does not match, or that ends early, is corrupted
    data: exit 1, no file, an existing file untouched."""
    # The client accepts only checked reply lines (docs/protocol.md): each
    # ends " ~" and the low 32 bits of the XXH3-64 of the line before it.
    wrong = b"OK 5 " + b"0" * 32 + b" ~c6c7dd9a\nhello"
    short = b"OK 5 6bba86c7e069f56d5a10b435f1c8e49c ~6ff1d131\nhel"
    unchecked = b"OK 5 6bba86c7e069f56d5a10b435f1c8e49c\nhello"
    for reply, words in [(wrong, b"corrupted"), (short, b"ended"),
                         (unchecked, b"fails its line check")]:
        with TempDir() as work:
            fake = FakeServer(reply)
            try:
                target = os.path.join(work, "hello.txt")
                with open(target, "wb") as out:
                    out.write(b"old")
                result = expect_exit(run([ferry, "get", "hello.txt", "-o", target, "--server",
                                          fake.address, "--timeout-ms", "5000"]), EXIT_FAILED)
                check(words in result.stderr, describe(result))
                with open(target, "rb") as kept:
                    check(kept.read() == b"old", "a corrupted get replaced the target")
                check(os.listdir(work) == ["hello.txt"], f"left behind: {os.listdir(work)}")
                result = expect_exit(run([ferry, "get", "hello.txt", "-o",
                                          os.path.join(work, "new.txt"), "--server",
                                          fake.address, "--timeout-ms", "5000"]), EXIT_FAILED)
                check(os.listdir(work) == ["hello.txt"], f"left behind: {os.listdir(work)}")
            finally:
                fake.close()


def case_get_into_special_targets(ferry):
    """What is at -o decides how a download is written: a FIFO or a device
    (/dev/null) is written into and stays what it was; a symbolic link keeps
    pointing where it did, at the replaced file; a replaced file keeps its
    permission bits."""
    with TempDir() as root, TempDir() as work:
        source = os.path.join(work, "a.bin")
        write_random(source, 5000, seed=3)
        with Server(ferry, root) as server:
            expect_exit(run(client(ferry, server, "put", source, "--as", "a.bin")), EXIT_OK)
            fifo = os.path.join(work, "fifo")
            os.mkfifo(fifo)
            received = []
            reader = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()),
                                      daemon=True)
            reader.start()
            expect_exit(run(client(ferry, server, "get", "a.bin", "-o", fifo)), EXIT_OK)
            reader.join(10)
            if reader.is_alive():  # nobody wrote into the FIFO: let the reader go
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            with open(source, "rb") as original:
                check(received == [original.read()], "the FIFO's reader did not get the file")
            check(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced")
            device = os.path.join(work, "null")
            if os.getuid() == 0:
                os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            else:
                os.symlink("/dev/null", device)
            expect_exit(run(client(ferry, server, "get", "a.bin", "-o", device)), EXIT_OK)
            check(stat.S_ISCHR(os.stat(device).st_mode), "the device was replaced")
            kept = os.path.join(work, "kept.txt")
            with open(kept, "wb") as out:
                out.write(b"old")
            os.chmod(kept, 0o640)
            link = os.path.join(work, "link")
            os.symlink("kept.txt", link)
            expect_exit(run(client(ferry, server, "get", "a.bin", "-o", link)), EXIT_OK)
            check(os.path.islink(link) and os.readlink(link) == "kept.txt",
                  "the symbolic link was replaced")
            check(same_bytes(source, kept), "the file the link names was not replaced")
            check(stat.S_IMODE(os.stat(kept).st_mode) == 0o640,
                  f"the replaced file's mode is {oct(stat.S_IMODE(os.stat(kept).st_mode))}")


# A hostile server's refusal: clear the screen, retitle the window, ring the
# bell. Checked as the client requires: " ~" and the low 32 bits of the
# XXH3-64 of the line before it (printf 'ERR 404 \x1b[2J\x1b]0;pwned\x07').
HOSTILE_ERR = b"ERR 404 \x1b[2J\x1b]0;pwned\x07 ~5433ed3c\n"


def only_printable(data):
    """Whether every byte is printable ASCII or a line break."""
    return all(0x20 <= byte < 0x7f or byte == 0x0a for byte in data)


def case_hostile_text_escaped(ferry):
    """Nothing a peer sends reaches a terminal or a log raw: the client
    escapes a server's ERR text (get, put, dir) and a naive server's reply;
    the server escapes a client's garbage in its log."""
    with TempDir() as work:
        source = os.path.join(work, "a.txt")
        with open(source, "wb") as out:
            out.write(b"abc\n")
        fake = FakeServer(HOSTILE_ERR)
        try:
            for command in (["get", "x.txt", "-o", os.path.join(work, "x.txt")],
                            ["put", source], ["dir"]):
                result = expect_exit(run([ferry, *command, "--server", fake.address,
                                          "--timeout-ms", "5000"]), EXIT_FAILED)
                check(only_printable(result.stdout + result.stderr), describe(result))
                check(b"ERR 404 \\x1b[2J\\x1b]0;pwned\\x07" in result.stderr, describe(result))
        finally:
            fake.close()
        # The chapter's protocol: the client prints the server's reply.
        fake = FakeServer(b"\x1b[2J\x1b]0;pwned\x07")
        try:
            result = expect_exit(run([ferry, "put", source, "--protocol", "naive", "--server",
                                      fake.address, "--timeout-ms", "5000"]), EXIT_FAILED)
            check(only_printable(result.stdout + result.stderr), describe(result))
            check(b"\\x1b[2J" in result.stdout, describe(result))
        finally:
            fake.close()
    with TempDir() as root, Server(ferry, root) as server:
        for garbage in (b"\x1b[2J\x1b]0;pwned\x07\n", b"GET \x1b]0;x\xe2\x80\xae\n",
                        b"PUT \x1b[2J 1\nz", b"DIR \x9b\x07\n"):
            with socket.create_connection((server.host, server.port), timeout=10) as conn:
                conn.sendall(garbage)
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(65536):
                    pass
        # The server logs a request when it is done with it; give the log a
        # moment to arrive.
        deadline = time.monotonic() + 10
        while sum("ERR" in line for line in server.log) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        log = list(server.log)
        check(sum("ERR" in line for line in log) >= 4, f"log: {log}")
        for line in log:
            check(all(0x20 <= ord(ch) < 0x7f for ch in line), f"raw bytes in log line {line!r}")
        check(any("\\x1b[2J\\x1b]0;pwned\\x07" in line for line in log), f"log: {log}")


# A GET's OK line for 1,000,000 bytes, checked (printf 'OK 1000000 000...0'),
# and the first bytes of the body: then the fake server stalls.
STALLING_GET = b"OK 1000000 " + b"0" * 32 + b" ~bf183cef\n" + b"x" * 1000


def part_files(directory, target="hello.txt"):
    """The part files of downloads to target: .TARGET.ferry-part-XXXXXX."""
    pattern = re.compile(r"\." + re.escape(target) + r"\.ferry-part-[A-Za-z0-9]{6}")
    return [n for n in os.listdir(directory) if pattern.fullmatch(n)]


def start_stalled_get(ferry, address, target, known=(), ignoring=()):
    """A `ferry get` into target, stalled mid-body: returns the process once
    its part file (one not in known) holds the first bytes. It starts with
    the signals in ignoring ignored, as nohup or a shell's & would."""
    def ignore():
        for sig in ignoring:
            signal.signal(sig, signal.SIG_IGN)
    process = subprocess.Popen([ferry, "get", "hello.txt", "-o", target, "--server", address,
                                "--timeout-ms", "60000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=ignore)
    directory = os.path.dirname(target)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        parts = [n for n in part_files(directory) if n not in known]
        if parts and os.path.getsize(os.path.join(directory, parts[0])) >= 1000:
            return process
        time.sleep(0.02)
    process.kill()
    out, err = process.communicate()
    raise TestFailure(f"the get never started writing its part file: {out!r} {err!r}")


def signal_and_wait(process, sig, timeout, what):
    """Sends sig to process and waits up to timeout seconds for it to end;
    returns its (stdout, stderr)."""
    process.send_signal(sig)
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise TestFailure(f"{what} did not end within {timeout} s of signal {sig}")


def case_interrupted_get_removes_its_part_file(ferry):
    """SIGINT, SIGTERM or SIGHUP mid-download: the part file is removed at
    once (the socket wait is 60 s), the exit code is 128 + the signal, an
    existing target is untouched."""
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)):
        with TempDir() as work:
            target = os.path.join(work, "hello.txt")
            with open(target, "wb") as out:
                out.write(b"old")
            fake = FakeServer(STALLING_GET, hold=True)
            try:
                process = start_stalled_get(ferry, fake.address, target)
                started = time.monotonic()
                _, err = signal_and_wait(process, sig, 10, "get")
                check(process.returncode == code,
                      f"signal {sig}: exit {process.returncode}, expected {code}: {err!r}")
                check(time.monotonic() - started < 5, f"signal {sig}: slow to stop")
                check(os.listdir(work) == ["hello.txt"], f"left behind: {os.listdir(work)}")
                with open(target, "rb") as kept:
                    check(kept.read() == b"old", "an interrupted get touched the target")
            finally:
                fake.close()
    # Started with SIGHUP and SIGINT ignored (nohup, a script's background
    # job), the get goes on through them; SIGTERM still ends it.
    with TempDir() as work:
        target = os.path.join(work, "hello.txt")
        fake = FakeServer(STALLING_GET, hold=True)
        process = None
        try:
            process = start_stalled_get(ferry, fake.address, target,
                                        ignoring=(signal.SIGHUP, signal.SIGINT))
            process.send_signal(signal.SIGHUP)
            process.send_signal(signal.SIGINT)
            time.sleep(0.3)
            check(process.poll() is None,
                  f"a get ignoring SIGHUP and SIGINT ended on them: exit {process.returncode}")
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=10)
            check(process.returncode == 143, f"SIGTERM: exit {process.returncode}")
            check(os.listdir(work) == [], f"left behind: {os.listdir(work)}")
        finally:
            if process is not None and process.poll() is None:
                process.kill()
            fake.close()


def case_killed_get_is_reclaimed(ferry):
    """A part file left by kill -9 is removed by the next get of the same
    target; a live download's part file, and other targets' files, are not."""
    with TempDir() as root, TempDir() as work:
        source = os.path.join(work, "source.txt")
        with open(source, "wb") as out:
            out.write(b"the real content")
        downloads = os.path.join(work, "downloads")
        os.mkdir(downloads)
        target = os.path.join(downloads, "hello.txt")
        fake = FakeServer(STALLING_GET, hold=True)
        try:
            killed = start_stalled_get(ferry, fake.address, target)
            killed.kill()
            killed.communicate(timeout=10)
            check(len(part_files(downloads)) == 1, f"kill -9 left {os.listdir(downloads)}")
            killed_part = part_files(downloads)[0]
            # Look-alikes the reclaimer must leave alone.
            decoys = [".other.txt.ferry-part-abcdef", ".hello.txt.ferry-part-abc",
                      ".hello.txt.ferry-part-abcdefg", "hello.txt.ferry-part-abcdef"]
            for decoy in decoys:
                with open(os.path.join(downloads, decoy), "wb") as out:
                    out.write(b"decoy")
            fake.close()
            fake = FakeServer(STALLING_GET, hold=True)
            live = start_stalled_get(ferry, fake.address, target, known=[killed_part])
            check(killed_part not in part_files(downloads),
                  f"the killed get's part file survived a new get: {os.listdir(downloads)}")
            live_part = part_files(downloads)[0]
            check(len(part_files(downloads)) == 1, f"downloads holds {os.listdir(downloads)}")
            with Server(ferry, root) as server:
                expect_exit(run(client(ferry, server, "put", source, "--as", "hello.txt")), EXIT_OK)
                result = expect_exit(run(client(ferry, server, "get", "hello.txt", "-o", target)),
                                     EXIT_OK)
            check(b"removed" not in result.stderr, f"took a live download's file: {describe(result)}")
            with open(target, "rb") as got:
                check(got.read() == b"the real content", "the get wrote the wrong content")
            check(sorted(os.listdir(downloads)) == sorted(decoys + ["hello.txt", live_part]),
                  f"downloads holds {sorted(os.listdir(downloads))}")
            live.send_signal(signal.SIGINT)
            _, err = live.communicate(timeout=10)
            check(live.returncode == 130, f"the live get exited {live.returncode}: {err!r}")
            check(b"removed 1 abandoned partial download" in err, f"live get said {err!r}")
            check(sorted(os.listdir(downloads)) == sorted(decoys + ["hello.txt"]),
                  f"downloads holds {sorted(os.listdir(downloads))}")
        finally:
            fake.close()


def case_max_bytes_413(ferry):
    with TempDir() as root, TempDir() as work:
        big = os.path.join(work, "big.bin")
        write_random(big, 8 * 1024 * 1024, seed=7)
        with Server(ferry, root, ["--max-bytes", "1000"]) as server:
            result = expect_exit(run(client(ferry, server, "put", big)), EXIT_FAILED)
            check(b"ERR 413" in result.stderr, describe(result))
            small = os.path.join(work, "small.bin")
            write_random(small, 1000, seed=8)
            expect_exit(run(client(ferry, server, "put", small)), EXIT_OK)
        check(sorted(snapshot(root)) == ["small.bin"], f"root holds {snapshot(root)}")


def put_from_pipe(ferry, server, source, name):
    """ferry put - --as NAME with source's bytes coming through a pipe."""
    with open(source, "rb") as data:
        cat = subprocess.Popen(["cat"], stdin=data, stdout=subprocess.PIPE)
        try:
            return run(client(ferry, server, "put", "-", "--as", name), stdin=cat.stdout)
        finally:
            cat.stdout.close()
            cat.wait()


def case_put_streams_and_falls_back(ferry):
    """ferry put streams a file (PUTS) and put - a pipe; against a server
    from before PUTS (--classic-put-only) a file falls back to PUT on a
    fresh connection, and put - fails with a message saying why, storing
    nothing."""
    with TempDir() as new_root, TempDir() as old_root, TempDir() as work:
        sizes = [0, 1, 262144, 262145, 5 * 1024 * 1024 + 3]
        for size in sizes:
            write_random(os.path.join(work, f"f{size}.bin"), size, seed=size + 1)
        with Server(ferry, new_root) as server:
            for size in sizes:
                source = os.path.join(work, f"f{size}.bin")
                expect_exit(run(client(ferry, server, "put", source)), EXIT_OK)
                result = expect_exit(put_from_pipe(ferry, server, source, f"p{size}.bin"),
                                     EXIT_OK)
                check(f"put standard input as p{size}.bin: {size} bytes".encode()
                      in result.stdout, describe(result))
                for name in (f"f{size}.bin", f"p{size}.bin"):
                    check(same_bytes(source, os.path.join(new_root, name)), f"{name} differs")
            result = expect_exit(run(client(ferry, server, "put", "-")), EXIT_USAGE)
            check(b"--as NAME" in result.stderr, describe(result))
        with Server(ferry, old_root, ["--classic-put-only"]) as server:
            for size in sizes:
                source = os.path.join(work, f"f{size}.bin")
                expect_exit(run(client(ferry, server, "put", source)), EXIT_OK)
                check(same_bytes(source, os.path.join(old_root, f"f{size}.bin")),
                      f"f{size}.bin differs after the fallback")
                result = expect_exit(put_from_pipe(ferry, server, source, "p.bin"), EXIT_FAILED)
                check(b"ERR 400 unknown command" in result.stderr and
                      b"takes no streamed upload" in result.stderr, describe(result))
        check(sorted(snapshot(old_root)) == sorted(f"f{size}.bin" for size in sizes),
              f"the old server keeps {snapshot(old_root)}")


def wait_for(condition, seconds=2.0):
    """Whether condition() holds within seconds (the server's log is read by
    a thread of its own, a moment behind)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def case_limits_and_timeouts(ferry):
    """Past --max-connections a client takes the slot of one waiting for a
    request, or gets ERR 503 (exit 1) when every slot serves a request; a
    header line that stalls past --header-timeout-ms, or a client idle past
    --idle-timeout-ms, gets ERR 408 and the connection closes."""
    with TempDir() as root:
        with Server(ferry, root, ["--max-connections", "1", "--header-timeout-ms", "300",
                                  "--idle-timeout-ms", "1000"]) as server:
            with socket.create_connection((server.host, server.port), timeout=10) as idle:
                # The accept loop must have taken the first client before the second.
                time.sleep(0.3)
                expect_exit(run(client(ferry, server, "dir")), EXIT_OK)
                check(idle.recv(100) == b"", "the idle client was not ended to make room")
            for wait in (0.3, 1.5, 4.0):
                logged_before = len(server.log)
                with socket.create_connection((server.host, server.port), timeout=10) as busy:
                    busy.sendall(b"PUT a 1000\n0123456789")  # serving a request: not ended
                    time.sleep(wait)
                    result = run(client(ferry, server, "dir"))
                    if result.returncode == EXIT_OK and wait_for(lambda: any(
                            "to make room" in line for line in server.log[logged_before:])):
                        # Rightly: on a loaded machine the server had not read the
                        # request line yet, so the busy client was still waiting.
                        continue
                    expect_exit(result, EXIT_FAILED)
                    check(b"ERR 503" in result.stderr and server.address.encode() in result.stderr,
                          describe(result))
                    break
            else:
                check(False, "the server never read the busy client's request line")
            time.sleep(0.3)
            with socket.create_connection((server.host, server.port), timeout=10) as stalled:
                stalled.sendall(b"PUT a")
                started = time.monotonic()
                reply = stalled.recv(100)
                waited = time.monotonic() - started
                # Checked: the server cannot know yet whether the client checks lines.
                check(reply == b"ERR 408 timed out ~a0c07a7f\n", f"stalled header got {reply!r}")
                check(0.25 < waited < 5, f"header timeout after {waited:.2f} s")
                check(stalled.recv(100) == b"", "the connection stayed open after ERR 408")
            time.sleep(0.3)
            with socket.create_connection((server.host, server.port), timeout=10) as idle:
                started = time.monotonic()
                reply = idle.recv(100)
                waited = time.monotonic() - started
                check(reply == b"ERR 408 timed out ~a0c07a7f\n", f"idle client got {reply!r}")
                check(0.9 < waited < 8, f"idle timeout after {waited:.2f} s")
        check(snapshot(root) == {}, f"root holds {snapshot(root)}")


def case_out_of_descriptors_answers_503(ferry):
    """A server out of file descriptors answers a new client ERR 503 at once
    (it keeps a descriptor in reserve for that) rather than leaving it in the
    accept queue; once descriptors are free again it serves."""
    skip_under_sanitizers("UBSan's vptr check opens a pipe to probe memory, and this case "
                          "leaves the server no descriptor for it: it reports any object "
                          "first checked then as of the wrong type, and stops the server")
    with TempDir() as root:
        with Server(ferry, root, max_descriptors=24) as server:
            held = [socket.create_connection((server.host, server.port), timeout=10)
                    for _ in range(30)]
            try:
                answered, _, _ = select.select(held, [], [], 3)
                replies = [conn.recv(200) for conn in answered]
                check(any(r.startswith(b"ERR 503 server out of file descriptors") for r in replies),
                      f"no ERR 503 among {replies!r}")
                result = expect_exit(run(client(ferry, server, "dir")), EXIT_FAILED)
                check(b"ERR 503" in result.stderr, describe(result))
            finally:
                for conn in held:
                    conn.close()
            time.sleep(0.5)
            expect_exit(run(client(ferry, server, "dir")), EXIT_OK)
            check(any("out of file descriptors" in line for line in server.log), server.log)


def case_signals_stop_server(ferry):
    for sig in (signal.SIGTERM, signal.SIGINT):
        with TempDir() as root:
            server = Server(ferry, root)
            server.__enter__()
            # An idle client connection must not keep the server from stopping.
            with socket.create_connection((server.host, server.port), timeout=10):
                code = server.stop(sig)
            check(code == 0, f"serve exited {code} on signal {sig}; log: {server.log}")
            check(any("stopped" in line for line in server.log), f"no 'stopped' in {server.log}")


def case_removed_root_stops_the_server(ferry):
    """rm -r of the served directory: a DIR is told so (ERR 500, never OK 0),
    and the server stops by itself and exits 1."""
    with TempDir() as parent:
        root = os.path.join(parent, "served")
        os.mkdir(root)
        with open(os.path.join(root, "a.txt"), "w") as out:
            out.write("hello")
        server = Server(ferry, root)
        server.__enter__()
        try:
            with socket.create_connection((server.host, server.port), timeout=10) as conn:
                shutil.rmtree(root)
                conn.sendall(b"DIR\n")
                reply = conn.recv(200)
            # (Or, should the server have noticed first, a refusal as it shuts down.)
            check((reply.startswith(b"ERR 500") and b"was removed" in reply) or
                  reply.startswith(b"ERR 503"), f"DIR after rm -r got {reply!r}")
            code = server.process.wait(timeout=10)
            check(code == EXIT_FAILED, f"serve exited {code}; log: {server.log}")
            check(any("was removed: stopping" in line for line in server.log),
                  f"no removal in the log: {server.log}")
        finally:
            if server.process.poll() is None:
                server.stop()


def send_and_collect(host, port, payload):
    """Sends payload on one connection (then shuts down its sending side)
    while reading every reply byte until the server closes; returns them."""
    replies = []
    with socket.create_connection((host, port), timeout=20) as conn:
        def send():
            try:
                conn.sendall(payload)
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server closed first: what it said is in replies
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        try:
            while chunk := conn.recv(65536):
                replies.append(chunk)
        except ConnectionResetError:
            pass
        sender.join(20)
    return b"".join(replies)


GARBAGE = {
    "newlines": b"\n" * (1 << 20),
    "unknown verbs": b"FETCH x\n" * ((1 << 20) // 8),
    "no newline": bytes(range(256)) * 4096,
    "nul lines": b"\x00\n" * (1 << 19),
}


def case_garbage_is_bounded(ferry):
    """1 MiB of garbage on one connection costs < 100 log lines and < 64 KiB
    of replies: the first malformed line is answered ERR 400 and ends the
    connection. Repeated refused requests (1 MiB of GET nope) are all
    answered, but logged ten by one and then counted."""
    with TempDir() as root:
        for what, payload in GARBAGE.items():
            with Server(ferry, root) as server:
                replies = send_and_collect(server.host, server.port, payload)
            check(replies.startswith(b"ERR 400 "), f"{what}: replies {replies[:100]!r}")
            check(len(replies) < 64 * 1024, f"{what}: {len(replies)} bytes of replies")
            check(len(server.log) < 100, f"{what}: {len(server.log)} log lines")
            print(f"{what}: {len(payload)} bytes sent, {len(replies)} bytes of replies, "
                  f"{len(server.log)} log lines")
        with Server(ferry, root) as server:
            payload = b"GET nope\n" * ((1 << 20) // 9)
            replies = send_and_collect(server.host, server.port, payload)
        count = replies.count(b"\n")
        check(count == (1 << 20) // 9 and replies.startswith(b"ERR 404"),
              f"GET nope: {count} replies, {replies[:100]!r}")
        check(len(server.log) < 100, f"GET nope: {len(server.log)} log lines")
        check(any("more errors not logged one by one" in line for line in server.log),
              f"no summary in {server.log}")
        print(f"GET nope x {count}: {len(server.log)} log lines")


def start_slow_upload(server, size, sent):
    """A connection with a PUT of size bytes whose first sent bytes are on
    their way; returns it and the body."""
    body = bytes((i * 7) % 251 for i in range(size))
    conn = socket.create_connection((server.host, server.port), timeout=20)
    conn.sendall(f"PUT slow.bin {size}\n".encode() + body[:sent])
    return conn, body


def exit_code_unsignalled(server, timeout):
    """Waits for the server to exit by itself (no further signal)."""
    try:
        server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    return server.stop(timeout=timeout)


def case_graceful_shutdown(ferry):
    """SIGTERM: an upload in flight finishes with OK and is stored, a new
    request on an open connection gets ERR 503, a new client is refused (or
    503), and the server exits 0 once the upload is done, within the grace.
    A second SIGTERM ends the grace at once; so does its end."""
    with TempDir() as root:
        server = Server(ferry, root, ["--shutdown-grace-ms", "5000"])
        server.__enter__()
        upload, body = start_slow_upload(server, 300_000, 100_000)
        idle = socket.create_connection((server.host, server.port), timeout=20)
        idle.sendall(b"DIR\n")
        check(idle.recv(100) == b"OK 0\n", "DIR before the shutdown")
        time.sleep(0.3)
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        check(server.process.poll() is None, "the server exited with an upload in flight")
        try:
            late = socket.create_connection((server.host, server.port), timeout=5)
            late.sendall(b"DIR\n")
            reply = late.recv(100)
            late.close()
            check(reply.startswith(b"ERR 503") or reply == b"", f"a new client got {reply!r}")
        except (ConnectionRefusedError, ConnectionResetError):
            pass
        idle.sendall(b"DIR\n")
        reply = idle.recv(100)
        check(reply.startswith(b"ERR 503 server shutting down"), f"DIR while draining: {reply!r}")
        check(idle.recv(100) == b"", "the connection stayed open after ERR 503")
        idle.close()
        upload.sendall(body[100_000:])
        reply = upload.recv(100)
        upload.close()
        check(reply.startswith(b"OK 300000 "), f"the upload in flight got {reply!r}")
        code = exit_code_unsignalled(server, timeout=10)
        waited = time.monotonic() - signalled
        check(code == 0, f"serve exited {code}; log: {server.log}")
        check(waited < 5, f"serve took {waited:.2f} s to exit")
        with open(os.path.join(root, "slow.bin"), "rb") as stored:
            check(stored.read() == body, "the stored upload differs")
        check(any("shutting down" in line for line in server.log), f"log: {server.log}")

    for grace_ms, second in ((60_000, True), (500, False)):
        with TempDir() as root:
            server = Server(ferry, root, ["--shutdown-grace-ms", str(grace_ms)])
            server.__enter__()
            upload, _ = start_slow_upload(server, 300_000, 1000)
            time.sleep(0.3)
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            check(server.process.poll() is None, "the server exited with an upload in flight")
            started = time.monotonic()
            if second:
                server.process.send_signal(signal.SIGTERM)
            code = exit_code_unsignalled(server, timeout=10)
            waited = time.monotonic() - started
            upload.close()
            check(code == 0, f"serve exited {code}; log: {server.log}")
            limit = 1.5 if second else 2.5
            check(waited < limit, f"serve took {waited:.2f} s to exit (second={second})")
            check(snapshot(root) == {} or all(n.startswith(".ferry-lock") for n in snapshot(root)),
                  f"root holds {snapshot(root)}")


def case_ipv6(ferry):
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        print("no IPv6 loopback here; skipped")
        return
    with TempDir() as root, TempDir() as work:
        with Server(ferry, root, host="::1") as server:
            check(server.address.startswith("[::1]:"), f"address {server.address}")
            source = os.path.join(work, "v6.txt")
            write_random(source, 5000, seed=6)
            expect_exit(run(client(ferry, server, "put", source)), EXIT_OK)
            result = expect_exit(run(client(ferry, server, "dir")), EXIT_OK)
            check(b"5000 v6.txt" in result.stdout, describe(result))


def case_help(ferry):
    for command in [[], ["serve"], ["put"], ["get"], ["dir"], ["sim"], ["scenario", "run"],
                    ["explore"]]:
        result = expect_exit(run([ferry, *command, "--help"]), EXIT_OK)
        check(b"Usage" in result.stdout or b"usage" in result.stdout.lower(), describe(result))
        if command:
            check(b"Examples" in result.stdout, f"no examples in {command} --help")
    expect_exit(run([ferry, "--version"]), EXIT_OK)


def case_naive_roundtrip(ferry):
    with TempDir() as root, TempDir() as work:
        with Server(ferry, root, ["--protocol", "naive"]) as server:
            for index, size in enumerate([1000, 1025, 5000], start=1):
                source = os.path.join(work, f"f{size}")
                write_random(source, size, seed=size)
                result = expect_exit(
                    run(client(ferry, server, "put", source, "--protocol", "naive")), EXIT_OK)
                check(result.stdout.decode().strip() == str(size), describe(result))
                check(same_bytes(source, os.path.join(root, f"upload-{index}")),
                      f"upload-{index} differs from {size} bytes sent")


def case_naive_deadlock_explained(ferry):
    """2048 bytes is a multiple of CHUNK_SIZE: the chapter's server waits for
    ever; the client times out, exits 1 and says why."""
    with TempDir() as root, TempDir() as work:
        with Server(ferry, root, ["--protocol", "naive", "--idle-timeout-ms", "1000"]) as server:
            source = os.path.join(work, "f2048")
            write_random(source, 2048, seed=1)
            result = run(client(ferry, server, "put", source, "--protocol", "naive",
                                timeout_ms=1000), timeout=30)
            expect_exit(result, EXIT_FAILED)
            check(b"multiple of the chunk size" in result.stderr, describe(result))


def case_scenario_exit_codes(ferry):
    """A scenario that holds exits 0, one whose expectation fails exits 1 with
    the seed and the reproduce command, a bad file exits 2 at its line, and
    --junit writes XML."""
    import xml.dom.minidom
    with TempDir() as work:
        def write(name, text):
            path = os.path.join(work, name)
            with open(path, "w") as out:
                out.write(text)
            return path
        holds = write("holds.toml", 'name = "zero bytes deadlock"\nprotocol = "naive"\n'
                      '[[client]]\nsteps = [{ put = "a", size = 0 }]\n'
                      '[expect]\noutcome = "deadlock"\n')
        wrong = write("wrong.toml", 'name = "wrongly expects a pass"\nprotocol = "naive"\n'
                      'seed = 3\n[[client]]\nsteps = [{ put = "a", size = 1024 }]\n')
        typo = write("typo.toml", 'name = "typo"\n[network]\nshort_read = true\n'
                     '[[client]]\nsteps = [{ dir = true }]\n')
        junit = os.path.join(work, "out.xml")
        result = expect_exit(run([ferry, "scenario", "run", holds, "--junit", junit]), EXIT_OK)
        check(b"1 passed, 0 failed" in result.stdout, describe(result))
        xml.dom.minidom.parse(junit)
        result = expect_exit(run([ferry, "scenario", "run", wrong]), EXIT_FAILED)
        check(b"expected outcome pass, got deadlock" in result.stdout, describe(result))
        check(b"wait-for:" in result.stdout, describe(result))
        check(b"--backend sim --seed 3" in result.stdout, describe(result))
        result = expect_exit(run([ferry, "scenario", "run", typo]), EXIT_USAGE)
        check(b"typo.toml:3:1: unknown fault \"short_read\"" in result.stdout, describe(result))
        expect_exit(run([ferry, "scenario", "run", os.path.join(work, "missing")]), EXIT_USAGE)
        # Forced onto real sockets, a scenario whose fault only the simulator
        # injects is skipped (and says why), not failed for want of it.
        sim_only = write("sim_only.toml", 'name = "a failing fsync"\nworkload = "ferry"\n'
                         '[faults]\nstore_io = { fail = "sync_directory", at = 1 }\n'
                         '[[client]]\nsteps = [{ put = "a", content = "x", '
                         'expect_error = 500 }]\n')
        result = expect_exit(run([ferry, "scenario", "run", sim_only, "--backend", "both",
                                  "--junit", junit]), EXIT_OK)
        check(b"1 passed, 0 failed, 1 skipped" in result.stdout, describe(result))
        check(b"real sockets do not inject store_io" in result.stdout, describe(result))
        check(b"<skipped" in open(junit, "rb").read(), "no <skipped> in the JUnit file")


def case_explore_shards_merge_like_one_process(ferry):
    """Three `--shard K/3 --results` processes merged by `ferry explore merge`
    report the same failures, minimal cases and scenario files as one
    process (docs/distributed-exploration.md)."""
    args = ["explore", "--workload", "kv-buggy", "--keep-going", "--runs", "2000", "--seed", "1",
            "--jobs", "1"]
    with TempDir() as work:
        single = os.path.join(work, "single")
        merged = os.path.join(work, "merged")
        one = expect_exit(run([ferry, *args, "--save-failures", single]), EXIT_FAILED)
        files = []
        for k in (1, 2, 3):
            files.append(os.path.join(work, f"{k}.json"))
            run([ferry, *args, "--shard", f"{k}/3", "--results", files[-1]])
        together = expect_exit(run([ferry, "explore", "merge", *files, "--save-failures", merged]),
                               EXIT_FAILED)

        def report(result):
            lines = result.stdout.decode().splitlines()
            kept = [re.sub(r" after [0-9.]+ s$", "", line) for line in lines
                    if not line.startswith(("scenario:", "results:", "views:"))
                    and " runs " not in line]
            return kept
        check(report(one) == report(together),
              f"merged report differs:\n{describe(one)}\n{describe(together)}")
        check(b"2000 runs from 3 shards" in together.stdout, describe(together))
        check(sorted(os.listdir(single)) == sorted(os.listdir(merged)) and os.listdir(single),
              f"{os.listdir(single)} against {os.listdir(merged)}")
        for name in os.listdir(single):
            # Scenario files and their views (an SVG, a pcap, a timeline): byte for byte.
            with open(os.path.join(single, name), "rb") as a, \
                    open(os.path.join(merged, name), "rb") as b:
                check(a.read() == b.read(), f"{name} differs")
        # Without --keep-going, one process stops at its first failure; so
        # does the merge, with the same run count.
        stopping = [a for a in args if a != "--keep-going"]
        one = expect_exit(run([ferry, *stopping]), EXIT_FAILED)
        first = re.search(rb"\n(\d+) runs in ", one.stdout)
        check(first is not None, describe(one))
        for k in (1, 2):
            run([ferry, *stopping, "--shard", f"{k}/2", "--results", files[k - 1]])
        together = expect_exit(run([ferry, "explore", "merge", *files[:2]]), EXIT_FAILED)
        check(first.group(1) + b" runs from 2 shards" in together.stdout,
              f"{describe(one)}\n{describe(together)}")
        # Shards of another exploration do not merge.
        other = os.path.join(work, "other.json")
        run([ferry, *args[:-4], "--seed", "2", "--jobs", "1", "--shard", "1/3", "--results", other])
        result = expect_exit(run([ferry, "explore", "merge", files[0], other]), EXIT_USAGE)
        check(b"two explorations" in result.stderr, describe(result))


def case_interrupted_explore_reports_what_it_found(ferry):
    """Ctrl-C (or SIGTERM) stops `ferry explore` rather than killing it: the
    failures found so far are shrunk, printed, saved and written to
    --results, and the exit code is 128 + the signal."""
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        with TempDir() as work:
            saved = os.path.join(work, "saved")
            results = os.path.join(work, "results.json")
            process = subprocess.Popen(
                [ferry, "explore", "--workload", "kv-buggy", "--keep-going", "--runs",
                 "1000000000", "--seed", "1", "--save-failures", saved, "--results", results],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(1.5)
            out, err = signal_and_wait(process, sig, 30, "explore")
            check(process.returncode == code,
                  f"signal {sig}: exit {process.returncode}, expected {code}: {out!r} {err!r}")
            check(b"interrupted" in err and b"kinds of failure found; interrupted" in out,
                  f"signal {sig}: {out!r} {err!r}")
            found = out.count(b"FOUND ")  # its two slips in the first 100 runs, and more
            check(found >= 2 and out.count(b"shrunk in") == found, f"{out!r}")
            with open(results) as f:
                written = json.load(f)
            check(len(written["findings"]) == found and written["interrupted"],
                  f"results: {written}")
            merged = run([ferry, "explore", "merge", results])
            check(b"was interrupted after" in merged.stderr, describe(merged))
            check(len([n for n in os.listdir(saved) if n.endswith(".toml")]) == found,
                  f"saved: {os.listdir(saved)}")

if __name__ == "__main__":
    cases = {name[len("case_"):]: function for name, function in globals().items()
             if name.startswith("case_")}
    sys.exit(main(cases))

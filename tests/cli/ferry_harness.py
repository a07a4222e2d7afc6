"""Helpers for the end-to-end tests of the ferry executable: start a server on
an ephemeral port, run client commands with bounded waits, check results.

Every wait is bounded: a hung server or client fails the test with its output
rather than hanging CTest.
"""

import os
import shutil
import signal
import resource
import subprocess
import sys
import tempfile
import threading

COMMAND_TIMEOUT_S = 60


class TestFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def run(args, timeout=COMMAND_TIMEOUT_S, env=None, stdin=None):
    """Runs a command; returns the CompletedProcess (stdout/stderr as bytes)."""
    try:
        return subprocess.run(args, capture_output=True, timeout=timeout, env=env, stdin=stdin)
    except subprocess.TimeoutExpired as error:
        raise TestFailure(f"{' '.join(map(str, args))} did not finish in {timeout} s: "
                          f"stdout={error.stdout!r} stderr={error.stderr!r}")


def describe(result):
    return (f"{' '.join(map(str, result.args))} exited {result.returncode}\n"
            f"stdout: {result.stdout.decode(errors='replace')}\n"
            f"stderr: {result.stderr.decode(errors='replace')}")


def expect_exit(result, code):
    check(result.returncode == code, f"expected exit {code}: {describe(result)}")
    return result


class Server:
    """A `ferry serve` child process on an ephemeral port. Use as a context
    manager; on exit it is stopped with SIGTERM and must exit 0."""

    def __init__(self, ferry, root, extra_args=(), host="127.0.0.1", max_descriptors=None):
        self.ferry = ferry
        self.max_descriptors = max_descriptors
        self.root = root
        self.args = [ferry, "serve", "--root", root, "--host", host, "--port", "0", *extra_args]
        self.process = None
        self.address = None
        self.log = []
        self._log_thread = None

    def __enter__(self):
        limit = self.max_descriptors
        self.process = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
            if limit else None)
        first = self._read_first_line(timeout=20)
        prefix = "listening on "
        check(first.startswith(prefix), f"first line of serve was {first!r}")
        self.address = first[len(prefix):]
        self._log_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._log_thread.start()
        return self

    def _read_first_line(self, timeout):
        line = []
        reader = threading.Thread(
            target=lambda: line.append(self.process.stdout.readline().decode().rstrip("\n")),
            daemon=True)
        reader.start()
        reader.join(timeout)
        if not line:
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise TestFailure(f"serve printed no first line in {timeout} s: {err!r}")
        return line[0]

    def _drain_stderr(self):
        for raw in self.process.stderr:
            self.log.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def port(self):
        return int(self.address.rsplit(":", 1)[1])

    @property
    def host(self):
        return self.address.rsplit(":", 1)[0].strip("[]")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Signals the server and returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise TestFailure(f"serve did not stop within {timeout} s of signal {sig}")
        if self._log_thread:
            self._log_thread.join(5)
        return code

    def __exit__(self, kind, value, traceback):
        code = self.stop()
        if kind is None:
            check(code == 0, f"serve exited {code} on SIGTERM; log:\n" + "\n".join(self.log))
        elif self.log:
            print("server log:\n" + "\n".join(self.log), file=sys.stderr)
        return False


class TempDir:
    """A fresh directory, removed afterwards."""

    def __init__(self, prefix="ferry-test-"):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
        return False


def snapshot(directory):
    """Every entry under directory (hidden ones too) with its size."""
    entries = {}
    for parent, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = os.path.join(parent, name)
            entries[os.path.relpath(path, directory)] = os.lstat(path).st_size
    return entries


def write_random(path, size_bytes, seed):
    """Writes size_bytes of reproducible pseudo-random bytes to path."""
    import random
    generator = random.Random(seed)
    with open(path, "wb") as out:
        left = size_bytes
        while left:
            n = min(left, 1 << 20)
            out.write(generator.randbytes(n))
            left -= n


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x = fa.read(1 << 20)
            y = fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


# The exit code of a skipped case; CTest's SKIP_RETURN_CODE (CMakeLists.txt).
EXIT_SKIPPED = 77


class TestSkipped(Exception):
    """A case that cannot run in this build; says why."""


def skip_under_sanitizers(why):
    """Skips the case in a sanitizer build (FERRY_UNDER_SANITIZERS=1)."""
    if os.environ.get("FERRY_UNDER_SANITIZERS") == "1":
        raise TestSkipped(why)


def main(cases):
    """python3 script.py FERRY CASE: runs one named case function."""
    if len(sys.argv) != 3 or sys.argv[2] not in cases:
        print(f"usage: {sys.argv[0]} FERRY CASE, CASE one of {', '.join(cases)}",
              file=sys.stderr)
        return 2
    ferry = os.path.abspath(sys.argv[1])
    try:
        cases[sys.argv[2]](ferry)
    except TestSkipped as skipped:
        print(f"skipped: {skipped}")
        return EXIT_SKIPPED
    except TestFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print("passed")
    return 0

#!/usr/bin/env python3
"""The chunked client of "Transferring Files" (Software Design by Example),
rewritten from the chapter's description for ferry's interop tests.

Reads a whole file, sends it with the chapter's loop (each conn.send offers
everything not yet sent; stop once the total reaches the end), never shuts
down sending, then waits for one recv(CHUNK_SIZE) and prints the server's
reply.

    client_chunk.py HOST PORT FILE [--chunk-size N] [--timeout SECONDS]

Output: "client sent N bytes", then "client received REPLY". Exit status 0
when the reply arrived, 1 when the connection failed or timed out.
"""

import argparse
import socket
import sys

CHUNK_SIZE = 1024


def make_socket(host, port, timeout):
    conn = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    conn.connect((host, port))
    return conn


def send_file(conn, data):
    total = 0
    while True:
        sent = conn.send(data[total:])
        if total + sent == len(data):
            break
        total += sent


def receive_ack(conn, chunk_size):
    return conn.recv(chunk_size)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("file")
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    parser.add_argument("--timeout", type=float, default=None)
    args = parser.parse_args()

    with open(args.file, "rb") as reader:
        data = reader.read()
    try:
        conn = make_socket(args.host, args.port, args.timeout)
        send_file(conn, data)
        print(f"client sent {len(data)} bytes", flush=True)
        reply = receive_ack(conn, args.chunk_size)
        conn.close()
    except OSError as error:  # includes socket.timeout
        print(f"client failed: {error!r}", file=sys.stderr)
        return 1
    print(f"client received {str(reply, 'utf-8')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

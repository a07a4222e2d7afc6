#!/usr/bin/env python3
"""The chunked server of "Transferring Files" (Software Design by Example),
rewritten from the chapter's description for ferry's interop tests.

A socketserver.TCPServer whose handler calls recv(CHUNK_SIZE) until one comes
back shorter than CHUNK_SIZE, then replies with the number of bytes received
as decimal text (no newline). The chapter's bugs are kept: it waits for ever
on an upload of 0 bytes or of a multiple of CHUNK_SIZE, and stops early when a
recv comes back short.

    server_chunk.py HOST PORT [--chunk-size N] [--save FILE] [--once]

Prints "listening on HOST:PORT" first (PORT is the one the kernel chose for
port 0), then the chapter's progress messages. --save writes what the last
upload delivered to FILE; --once serves one connection and exits.
"""

import argparse
import socketserver
import sys

CHUNK_SIZE = 1024


def make_handler(chunk_size, save_path):
    class FileHandler(socketserver.BaseRequestHandler):
        def handle(self):
            print("server about to start receiving", flush=True)
            data = bytes()
            while True:
                latest = self.request.recv(chunk_size)
                print(f"...server received {len(latest)} bytes", flush=True)
                data += latest
                if len(latest) < chunk_size:
                    print("...server breaking", flush=True)
                    break
            print(f"server finished received, about to reply {len(data)}", flush=True)
            if save_path:
                with open(save_path, "wb") as saved:
                    saved.write(data)
            self.request.sendall(bytes(str(len(data)), "utf-8"))

    return FileHandler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    parser.add_argument("--save")
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args()

    socketserver.TCPServer.allow_reuse_address = True
    handler = make_handler(args.chunk_size, args.save)
    with socketserver.TCPServer((args.host, args.port), handler) as server:
        host, port = server.server_address[:2]
        print(f"listening on {host}:{port}", flush=True)
        if args.once:
            server.handle_request()
        else:
            server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

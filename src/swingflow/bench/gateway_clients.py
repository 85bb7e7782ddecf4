"""Many WebSocket clients in one process: `python -m swingflow.bench.gateway_clients`.

Opens `--clients` connections to `--url`, subscribes each to `signals`, prints `READY`
once all are subscribed, then records, for every confirmed signal received, the delay
from its `ts_event` (stamped by the publisher) to its arrival. It stops once every
client has `--expect` signals, or at `--deadline-s`, saves (send time, delay) pairs as a
2 x n float64 array with `numpy.save` to `--out` and prints one JSON line: counts, drops.
With `--stall`, the clients stop reading once subscribed (a 4 KiB receive buffer): dead
weight for the server.

The clients speak RFC 6455 themselves (an asyncio Protocol: handshake, masked client
frames, unmasked server frames, pong to ping) rather than through the websockets
library: measured in one run, the library's clients took 1.25 cores to take 50,000
frames/s, which on this 2-core machine left the gateway under test about 0.7 of one.
They run on uvloop, as the gateway does.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import socket
import struct
import time
from datetime import datetime
from typing import cast
from urllib.parse import urlsplit

import numpy as np
import uvloop

MARK = b'"ts_event":"'
CONFIRMED = b'"type":"confirmed_signal"'
SUBSCRIBE = json.dumps({"type": "subscribe", "channels": ["signals"]}).encode()


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (payloads under 126 bytes, which is all these clients send)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked


class Client(asyncio.Protocol):
    def __init__(
        self, host: str, path: str, expect: int, delays: list[float], sent_at: list[float]
    ) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
        ).encode()
        self.expect, self.delays, self.sent_at = expect, delays, sent_at
        self.buffer = bytearray()
        self.upgraded = False
        self.subscribed = asyncio.get_running_loop().create_future()
        self.done = asyncio.get_running_loop().create_future()
        self.got = self.dropped = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.subscribed.done():  # awaited while connecting: fail the start
            self.subscribed.set_exception(ConnectionError(f"closed: {exc!r}"))
        if not self.done.done():  # the counts say what was missed
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.connection_lost(ConnectionError(bytes(self.buffer[:end]).decode()))
                return
            del self.buffer[: end + 4]
            self.upgraded = True
            assert self.transport is not None
            self.transport.write(client_frame(0x1, SUBSCRIBE))
        self._frames()

    def _frames(self) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            opcode, size, start = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    return
                size, start = struct.unpack_from("!H", buf, 2)[0], 4
            elif size == 127:
                if len(buf) < 10:
                    return
                size, start = struct.unpack_from("!Q", buf, 2)[0], 10
            if len(buf) < start + size:
                return
            payload = bytes(buf[start : start + size])
            del buf[: start + size]
            self._frame(opcode, payload)

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == 0x9 and self.transport is not None:  # ping
            self.transport.write(client_frame(0xA, payload))
        elif opcode != 0x1:
            return
        elif CONFIRMED in payload:
            start = payload.rindex(MARK) + len(MARK)
            stamp = payload[start : payload.index(b'"', start)].decode()
            sent = datetime.fromisoformat(stamp).timestamp()
            self.delays.append(time.time() - sent)
            self.sent_at.append(sent)
            self.got += 1
            if self.got >= self.expect and not self.done.done():
                self.done.set_result(None)
        elif b'"dropped"' in payload:
            self.dropped += int(json.loads(payload)["data"]["count"])
        elif (
            b'"hello"' in payload
            and not self.subscribed.done()
            and "signals" in json.loads(payload)["data"]["channels"]  # not the first hello
        ):
            self.subscribed.set_result(None)


async def open_one(
    url: str,
    expect: int,
    delays: list[float],
    sent_at: list[float],
    gate: asyncio.Semaphore,
    receive_buffer: int | None = None,
) -> Client:
    parts = urlsplit(url)
    async with gate:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:  # a small window, so a client that stops reading is soon full
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await loop.sock_connect(sock, (parts.hostname or "127.0.0.1", parts.port or 80))
        _, client = await loop.create_connection(
            lambda: Client(parts.netloc, parts.path, expect, delays, sent_at), sock=sock
        )
        await asyncio.wait_for(client.subscribed, 60)
        return client


async def main(args: argparse.Namespace) -> None:
    delays: list[float] = []
    sent_at: list[float] = []
    gate = asyncio.Semaphore(args.concurrency)
    buffer = 4096 if args.stall else None
    clients = await asyncio.gather(
        *(
            open_one(args.url, args.expect, delays, sent_at, gate, buffer)
            for _ in range(args.clients)
        )
    )
    if args.stall:  # subscribed, then never read again: the slowest possible clients
        for client in clients:
            if client.transport is not None:
                client.transport.pause_reading()
    print("READY", flush=True)
    cpu0 = time.process_time()
    done, _ = await asyncio.wait([c.done for c in clients], timeout=args.deadline_s)
    cpu = time.process_time() - cpu0
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    np.save(args.out, np.asarray([sent_at, delays], dtype=np.float64))
    print(json.dumps({"clients": args.clients, "complete": len(done), "received": len(delays),
                      "dropped": sum(c.dropped for c in clients),
                      "cpu_s": round(cpu, 3)}), flush=True)  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--deadline-s", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--out", required=True)
    parser.add_argument("--stall", action="store_true", help="stop reading once subscribed")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvloop.run(main(parser.parse_args()))  # about half the CPU of asyncio's loop per frame

"""Many WebSocket clients in one process: `python -m swingflow.bench.gateway_clients`.

Opens `--clients` connections to `--url`, subscribes each to `signals`, prints `READY`
once all are subscribed, then timestamps every frame on arrival. It stops once every
client has `--expect` signals, or at `--deadline-s`; then (outside the measured CPU) it
reads each signal's `ts_event` (stamped by the publisher), saves (send time, delay) pairs
as a 2 x n float64 array with `numpy.save` to `--out` and prints one JSON line: counts,
drops and `cpu_s`, the process's CPU from READY until done. With `--stall`, the clients
stop reading once subscribed (a 4 KiB receive buffer): dead weight for the server.

The clients stand in for browsers on other machines, so they are made to cost as little
as they can on the 2 cores they share with the gateway under test:

- They speak RFC 6455 themselves (an asyncio Protocol on uvloop: handshake, masked client
  frames, unmasked server frames, pong to ping) rather than through the websockets
  library: measured in one run, the library's clients took 1.25 cores to take 50,000
  frames/s, which left the gateway about 0.7 of one.
- On arrival a frame is only delimited (its header read, no copy) and timestamped; its
  JSON is read after the run. That saves little: at 1,000 clients (one frame a read), two
  alternating runs each, 11.3-12.7 us of client CPU a frame against 12.4-12.7 us when
  each frame was copied and parsed on arrival; uvloop's read and the kernel are the rest.
- They wait in epoll, as a browser's loop would. Tried and dropped: sleeping in a 1 ms
  timer and taking every readable socket at once (on loopback the kernel wakes a reader
  waiting in epoll from inside the sender's write, so those wake-ups are charged to the
  gateway). In three alternating runs each at 5,000 clients on the shared machine the
  gateway then got less CPU (0.10-0.25 of a core against 0.32-0.38) and p99 was worse
  (1.9-3.9 s against 0.5-0.9 s): the 1,000 timer wake-ups a second preempted it.
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
from typing import Any, cast
from urllib.parse import urlsplit

import numpy as np
import uvloop

MARK = b'"ts_event":"'
SIGNAL = b'{"channel":"signals","type":"confirmed_signal"'  # what `channels.envelope` writes
SUBSCRIBE = json.dumps({"type": "subscribe", "channels": ["signals"]}).encode()
PING, TEXT = 0x9, 0x1


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (payloads under 126 bytes, which is all these clients send)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked


class Client(asyncio.Protocol):
    """One connection. After the upgrade, `data_received` delimits frames and records, for
    each signal, (arrival time, the bytes it is in, where its payload starts and ends)."""

    def __init__(self, host: str, path: str, expect: int) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
        ).encode()
        self.expect = expect
        self.carry = b""  # an incomplete frame (or handshake) waiting for more bytes
        self.upgraded = False
        self.subscribed = asyncio.get_running_loop().create_future()
        self.done = asyncio.get_running_loop().create_future()
        self.got = 0
        self.signals: list[tuple[float, bytes, int, int]] = []
        self.dropped = 0
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
        now = time.time()
        if self.carry:
            data = self.carry + data
            self.carry = b""
        if not self.upgraded:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.carry = data
                return
            if not data.startswith(b"HTTP/1.1 101"):
                self.connection_lost(ConnectionError(data[:end].decode()))
                return
            data = data[end + 4 :]
            self.upgraded = True
            assert self.transport is not None
            self.transport.write(client_frame(TEXT, SUBSCRIBE))
        self._frames(data, now)

    def _frames(self, data: bytes, now: float) -> None:
        pos, size_of = 0, len(data)
        while pos + 2 <= size_of:
            size, start = data[pos + 1] & 0x7F, pos + 2
            if size == 126:
                if size_of < pos + 4:
                    break
                size, start = struct.unpack_from("!H", data, pos + 2)[0], pos + 4
            elif size == 127:
                if size_of < pos + 10:
                    break
                size, start = struct.unpack_from("!Q", data, pos + 2)[0], pos + 10
            end = start + size
            if end > size_of:
                break
            opcode = data[pos] & 0x0F
            pos = end
            if opcode == TEXT:
                if data.startswith(SIGNAL, start):
                    self.signals.append((now, data, start, end))
                    self.got += 1
                    if self.got >= self.expect and not self.done.done():
                        self.done.set_result(None)
                else:  # a system frame (hello, heartbeat, dropped): rare, so parsed now
                    self._system(json.loads(data[start:end]))
            elif opcode == PING and self.transport is not None:
                self.transport.write(client_frame(0xA, data[start:end]))
        if pos < size_of:
            self.carry = data[pos:]

    def _system(self, frame: dict[str, Any]) -> None:
        kind, data = frame.get("type"), frame.get("data") or {}
        if kind == "dropped":
            self.dropped += int(data["count"])
        elif (  # the hello after subscribing, not the first one
            kind == "hello" and "signals" in data.get("channels", ()) and not self.subscribed.done()
        ):
            self.subscribed.set_result(None)

    def delays(self) -> tuple[list[float], list[float]]:
        """(send times, delays) of the signals received, read from their `ts_event`."""
        sent_at, delays = [], []
        for arrived, data, start, end in self.signals:
            at = data.rindex(MARK, start, end) + len(MARK)
            sent = datetime.fromisoformat(data[at : data.index(b'"', at)].decode()).timestamp()
            sent_at.append(sent)
            delays.append(arrived - sent)
        return sent_at, delays


async def open_one(
    url: str, expect: int, gate: asyncio.Semaphore, receive_buffer: int | None = None
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
            lambda: Client(parts.netloc, parts.path, expect), sock=sock
        )
        await asyncio.wait_for(client.subscribed, 60)
        return client


async def main(args: argparse.Namespace) -> None:
    gate = asyncio.Semaphore(args.concurrency)
    buffer = 4096 if args.stall else None
    clients = await asyncio.gather(
        *(open_one(args.url, args.expect, gate, buffer) for _ in range(args.clients))
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
    sent_at: list[float] = []
    delays: list[float] = []
    for client in clients:
        sent, delay = client.delays()
        sent_at += sent
        delays += delay
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

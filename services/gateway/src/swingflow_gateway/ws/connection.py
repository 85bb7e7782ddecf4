"""One WebSocket client: a bounded queue, a reader task and a sender task that end together.

The hub calls `offer(frame)` for every event on a channel the client wants. `offer` never
waits: when the queue is full the oldest frame is dropped and counted, so a slow client
loses its own backlog and never slows the hub or the other clients. The next frame it
gets is `{"channel": "system", "type": "dropped", "data": {"count": n}}`.

The sender task is the only writer to the socket. The reader parses what the client
sends (subscribe, unsubscribe, ping); a bad frame gets an `error` reply through the same
queue and the connection stays up. When either task ends (the client left, a send
failed) the other is cancelled: the Starlette pattern.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from swingflow_gateway.metrics import WS_DROPPED
from swingflow_gateway.ws.channels import OFFERED, parse_channel, system

if TYPE_CHECKING:
    from swingflow_gateway.ws.hub import Hub

log = logging.getLogger(__name__)

MAX_CLIENT_FRAME = 64 * 1024  # bytes: a subscribe with a thousand channels fits


class Socket(Protocol):
    """The part of Starlette's WebSocket a connection uses (a fake in unit tests)."""

    async def send_text(self, data: str) -> None: ...
    async def receive(self) -> Any: ...


class Connection:
    """A client's subscriptions and outgoing queue; `serve` runs it until it goes away."""

    def __init__(self, hub: Hub, socket: Socket, queue_size: int, max_channels: int) -> None:
        self.hub = hub
        self.socket = socket
        self.channels: set[str] = set()
        self.max_channels = max_channels
        self.queue_size = queue_size
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self._pending_drops = 0
        self.dropped = 0  # total dropped over the connection's life
        self.sent = 0
        self.sending_since: float | None = None  # loop time a send started, None when idle
        self._tasks: list[asyncio.Task[None]] = []

    # -- called by the hub -----------------------------------------------------------------

    def offer(self, frame: str) -> None:
        """Queue a frame; when full, drop the oldest and count it. Never waits."""
        if len(self._queue) >= self.queue_size:
            self._queue.popleft()
            self._pending_drops += 1
            self.dropped += 1
            WS_DROPPED.inc()
        self._queue.append(frame)
        self._wake.set()

    def close(self) -> None:
        """End both tasks (the hub's dead-client watchdog calls this)."""
        for task in self._tasks:
            task.cancel()

    # -- the two tasks ---------------------------------------------------------------------

    async def serve(self) -> None:
        """Run the reader and the sender until one ends, then stop the other."""
        self.hub.add(self)
        self.offer(system("hello", {"channels": [], "offered": list(OFFERED)}))
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="ws-reader"),
            asyncio.create_task(self._send_loop(), name="ws-sender"),
        ]
        try:
            await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self.hub.remove(self)

    async def _send_loop(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue
        try:
            while True:
                if not queue:
                    self._wake.clear()
                    await self._wake.wait()
                if self._pending_drops:
                    frame = system("dropped", {"count": self._pending_drops})
                    self._pending_drops = 0
                else:
                    frame = queue.popleft()
                self.sending_since = loop.time()
                await self.socket.send_text(frame)
                self.sending_since = None
                self.sent += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the client is gone: closed socket, reset connection
            log.debug("websocket send ended: %r", exc)

    async def _read_loop(self) -> None:
        while True:
            message = await self.socket.receive()
            if message.get("type") == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None and message.get("bytes") is not None:
                raw = message["bytes"]
            if raw is not None:
                self.handle(raw)

    # -- what the client says --------------------------------------------------------------

    def handle(self, raw: str | bytes) -> None:
        """Act on one client frame; anything wrong is answered with an `error` frame."""
        if len(raw) > MAX_CLIENT_FRAME:
            self._error(f"frame of {len(raw)} bytes is over the {MAX_CLIENT_FRAME} limit")
            return
        try:
            frame = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            self._error('not JSON: send {"type": "subscribe", "channels": [...]}')
            return
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "ping":
            self.offer(system("pong"))
        elif kind in ("subscribe", "unsubscribe"):
            self._change(kind, frame.get("channels"))
        else:
            self._error(f"unknown type {kind!r}: use subscribe, unsubscribe or ping")

    def _change(self, kind: str, names: object) -> None:
        if not isinstance(names, list):
            self._error(f"{kind}: 'channels' must be a list of channel names")
            return
        good, bad = _parse_all(names)
        if kind == "subscribe":
            room = self.max_channels - len(self.channels)
            new = [c for c in dict.fromkeys(good) if c not in self.channels]
            if len(new) > room:
                self._error(f"subscribe: at most {self.max_channels} channels per connection")
                new = new[: max(room, 0)]
            self.hub.subscribe(self, new)
        else:
            self.hub.unsubscribe(self, good)
        if bad:
            self._error(f"{kind}: " + "; ".join(bad))
        self.offer(system("hello", {"channels": sorted(self.channels)}))

    def _error(self, detail: str) -> None:
        self.offer(system("error", {"detail": detail}))


def _parse_all(names: Iterable[object]) -> tuple[list[str], list[str]]:
    good: list[str] = []
    bad: list[str] = []
    for name in names:
        try:
            good.append(parse_channel(name))
        except ValueError as exc:
            bad.append(str(exc))
    return good, bad

"""One WebSocket client: a bounded queue, a reader task, and a sender task while one is needed.

The hub calls `offer(frame)` for every event on a channel the client wants, with one
`Frame` shared by all of them, or `offer_all(frames, data)` for the several messages that
arrived in one turn of the loop. Neither waits. When nothing is queued for the client,
the frames go out at once: their encoded bytes written straight to the socket when the
socket allows it (`Socket.write`; one write for all of `offer_all`'s frames), else one by
one through the ASGI send run eagerly (see `eager`). Either way a send to a socket with
room finishes without suspending, so a fan-out to thousands of clients costs no task
switch per client. A send that has to wait starts the sender task, which finishes it and
then drains the queue; meanwhile frames queue up. When the queue is full the oldest frame
is dropped and counted, so a slow client loses its own backlog and never slows the hub
or the other clients; the next frame it gets is
`{"channel": "system", "type": "dropped", "data": {"count": n}}`.

The reader parses what the client sends (subscribe, unsubscribe, ping); a bad frame gets
an `error` reply through the same path and the connection stays up. The reader and the
sender end together: a failed send closes the connection, and when the reader ends (the
client left, or the hub closed a stuck client) the sender is cancelled.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from swingflow_gateway.metrics import WS_DROPPED
from swingflow_gateway.ws import eager
from swingflow_gateway.ws.channels import OFFERED, parse_channel, system
from swingflow_gateway.ws.frames import Frame

if TYPE_CHECKING:
    from swingflow_gateway.ws.hub import Hub

log = logging.getLogger(__name__)

MAX_CLIENT_FRAME = 64 * 1024  # bytes: a subscribe with a thousand channels fits


class Socket(Protocol):
    """What a connection sends and receives through (`RawSocket`, a fake in unit tests).

    `write` sends encoded frames at once when the socket allows it and says whether it
    did (False: use `send_text`); `send_text` must return a coroutine, so that it can be
    run eagerly.
    """

    def write(self, data: bytes) -> bool: ...
    def send_text(self, data: str) -> Coroutine[Any, Any, None]: ...
    def receive(self) -> Awaitable[Any]: ...


class Connection:
    """A client's subscriptions and outgoing queue; `serve` runs it until it goes away."""

    def __init__(self, hub: Hub, socket: Socket, queue_size: int, max_channels: int) -> None:
        self.hub = hub
        self.socket = socket
        self.channels: set[str] = set()
        self.max_channels = max_channels
        self.queue_size = queue_size
        self._queue: deque[Frame] = deque()
        self._pending_drops = 0
        self.dropped = 0  # total dropped over the connection's life
        self.sent = 0
        self.written = 0  # of `sent`, those written straight to the socket as bytes
        self.writes = 0  # the socket writes that carried them (fewer when batched)
        self.sending_since: float | None = None  # loop time a waiting send began
        self._reader: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._closed = False

    # -- called by the hub -----------------------------------------------------------------

    def offer(self, frame: Frame) -> None:
        """Send now if idle, else queue; when full, drop the oldest and count it. Never waits."""
        if self._closed:
            return
        if self._sender is None:  # nothing queued or in flight: try at once
            try:
                written = self.socket.write(frame.wire)
            except Exception as exc:  # the client is gone
                log.debug("websocket write failed: %r", exc)
                self.close()
                return
            if written:
                self.sent += 1
                self.written += 1
                self.writes += 1
            else:
                self._send_now(frame.text)
            return
        if len(self._queue) >= self.queue_size:
            self._queue.popleft()
            self._pending_drops += 1
            self.dropped += 1
            WS_DROPPED.inc()
        self._queue.append(frame)

    def offer_all(self, frames: list[Frame], data: bytes) -> None:
        """`offer` each of `frames`, in one write of `data` (their bytes joined) if idle."""
        if self._closed:
            return
        if self._sender is None:
            try:
                written = self.socket.write(data)
            except Exception as exc:
                log.debug("websocket write failed: %r", exc)
                self.close()
                return
            if written:
                self.sent += len(frames)
                self.written += len(frames)
                self.writes += 1
                return
        for frame in frames:  # one by one: the first is sent, the rest queue behind it
            self.offer(frame)

    def close(self) -> None:
        """End the connection (a failed send, the hub's dead-client watchdog, shutdown)."""
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()

    def _send_now(self, frame: str) -> None:
        coro = self.socket.send_text(frame)
        try:
            waiting_on = eager.step(coro)
        except Exception as exc:  # the client is gone: closed socket, reset connection
            log.debug("websocket send failed: %r", exc)
            self.close()
            return
        if waiting_on is eager.DONE:
            self.sent += 1
            return
        self.sending_since = asyncio.get_running_loop().time()
        self._sender = asyncio.create_task(self._drain(coro, waiting_on), name="ws-sender")

    async def _drain(self, coro: Any, waiting_on: Any) -> None:
        """Finish the send that had to wait, then send what queued up meanwhile."""
        loop = asyncio.get_running_loop()
        try:
            await eager.finish(coro, waiting_on)
            self.sent += 1
            while self._queue or self._pending_drops:
                if self._pending_drops:
                    text = system("dropped", {"count": self._pending_drops})
                    self._pending_drops = 0
                else:
                    text = self._queue.popleft().text
                self.sending_since = loop.time()
                await self.socket.send_text(text)
                self.sent += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("websocket send failed: %r", exc)
            self.close()
        finally:
            self.sending_since = None
            self._sender = None

    # -- the connection's life -------------------------------------------------------------

    async def serve(self) -> None:
        """Run until the client leaves or the connection is closed."""
        self.hub.add(self)
        self._reader = asyncio.create_task(self._read_loop(), name="ws-reader")
        self.offer(Frame(system("hello", {"channels": [], "offered": list(OFFERED)})))
        try:
            await asyncio.wait([self._reader])
        finally:
            self._closed = True
            tasks = [t for t in (self._reader, self._sender) if t is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.hub.remove(self)

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
            self.offer(Frame(system("pong")))
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
        self.offer(Frame(system("hello", {"channels": sorted(self.channels)})))

    def _error(self, detail: str) -> None:
        self.offer(Frame(system("error", {"detail": detail})))


def _parse_all(names: Iterable[object]) -> tuple[list[str], list[str]]:
    good: list[str] = []
    bad: list[str] = []
    for name in names:
        try:
            good.append(parse_channel(name))
        except ValueError as exc:
            bad.append(str(exc))
    return good, bad

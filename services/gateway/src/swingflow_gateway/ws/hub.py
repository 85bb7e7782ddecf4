"""The fan-out: every NATS message serialized once and offered to each subscribed client.

The process holds one set of NATS subscriptions (see `nats_link`), whatever the number
of clients. For each message the hub validates it, finds its channels and builds the
frame once; at the end of the loop's turn (`flush`) it calls `offer` on every connection
subscribed to one of them: a dict look-up and a write of the frame's shared bytes (or a
deque append) per client, no await, so one slow client costs the others nothing.

Messages that arrive in the same turn (nats-py hands over everything it read from its
socket before the loop moves on) go out together: each client gets the frames meant for
it joined into one write, in the order they came (`offer_all`). A gateway that keeps up
sees one message a turn and writes each client once per message; one that falls behind
finds several messages waiting and pays one socket write per client for all of them
instead of one per message, so it catches up instead of falling further behind. A batch
is flushed at once when its frames reach `BATCH_BYTES`, so no write is much larger than
uvicorn's high-water mark and a slow client's excess still goes to its bounded queue.

A heartbeat task offers one shared `heartbeat` frame to every client every
`heartbeat_seconds` and closes clients whose socket has not taken a frame for
`send_timeout` seconds (a dead peer that stopped reading).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import ValidationError

from swingflow_common.messages import decode
from swingflow_gateway.metrics import (
    EVENTS,
    INVALID_EVENTS,
    WS_CLIENTS,
    WS_DISCONNECTS,
    WS_FANOUTS,
)
from swingflow_gateway.ws.channels import ROUTES, channels_for, envelope, system
from swingflow_gateway.ws.connection import Connection
from swingflow_gateway.ws.frames import Frame

log = logging.getLogger(__name__)

_EVENT_COUNTERS = {kind: EVENTS.labels(kind) for _, kind in ROUTES.values()}
BATCH_BYTES = 64 * 1024  # a turn's frames beyond this are flushed at once (s.a.)


class Hub:
    """Who listens to which channel, and the broadcast of one frame to them."""

    def __init__(self, heartbeat_seconds: float = 15.0, send_timeout: float = 30.0) -> None:
        self.heartbeat_seconds = heartbeat_seconds
        self.send_timeout = send_timeout
        self.connections: set[Connection] = set()
        self._by_channel: defaultdict[str, set[Connection]] = defaultdict(set)
        self._heartbeat: asyncio.Task[None] | None = None
        self._pending: list[tuple[tuple[str, ...], Frame]] = []
        self._pending_bytes = 0

    # -- membership -------------------------------------------------------------------------

    def add(self, connection: Connection) -> None:
        self.connections.add(connection)
        WS_CLIENTS.set(len(self.connections))

    def remove(self, connection: Connection) -> None:
        self.unsubscribe(connection, list(connection.channels))
        self.connections.discard(connection)
        WS_CLIENTS.set(len(self.connections))

    def subscribe(self, connection: Connection, channels: Iterable[str]) -> None:
        for channel in channels:
            self._by_channel[channel].add(connection)
            connection.channels.add(channel)

    def unsubscribe(self, connection: Connection, channels: Iterable[str]) -> None:
        for channel in channels:
            members = self._by_channel.get(channel)
            if members is not None:
                members.discard(connection)
                if not members:
                    del self._by_channel[channel]
            connection.channels.discard(channel)

    def subscribers(self, channel: str) -> int:
        return len(self._by_channel.get(channel, ()))

    # -- fan-out ----------------------------------------------------------------------------

    def broadcast(self, channels: tuple[str, ...], frame: Frame) -> int:
        """Offer `frame` once to every client on any of `channels`; how many got it."""
        offered = 0
        first = channels[0]
        for connection in self._by_channel.get(first, ()):
            connection.offer(frame)
            offered += 1
        for channel in channels[1:]:
            for connection in self._by_channel.get(channel, ()):
                if first not in connection.channels:
                    connection.offer(frame)
                    offered += 1
        return offered

    def flush(self) -> int:
        """Offer every message published since the last flush; how many offers were made."""
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        if batch:
            WS_FANOUTS.inc()
        if len(batch) <= 1:  # the usual case: one message, one shared frame
            return sum(self.broadcast(*message) for message in batch)
        channels = batch[0][0]
        if all(message[0] == channels for message in batch):  # all for the same clients
            return self._offer_all(channels, [frame for _, frame in batch])
        frames_for: dict[Connection, list[Frame]] = {}
        for channels, frame in batch:
            for connection in self._audience(channels):
                frames = frames_for.get(connection)
                if frames is None:
                    frames_for[connection] = [frame]
                else:
                    frames.append(frame)
        joined: dict[tuple[Frame, ...], bytes] = {}  # clients with the same frames share bytes
        for connection, frames in frames_for.items():
            if len(frames) == 1:
                connection.offer(frames[0])
                continue
            key = tuple(frames)  # frames compare by identity
            data = joined.get(key)
            if data is None:
                data = joined[key] = b"".join([frame.wire for frame in frames])
            connection.offer_all(frames, data)
        return sum(len(frames) for frames in frames_for.values())

    def _offer_all(self, channels: tuple[str, ...], frames: list[Frame]) -> int:
        data = b"".join([frame.wire for frame in frames])
        audience = self._audience(channels)
        for connection in audience:
            connection.offer_all(frames, data)
        return len(audience) * len(frames)

    def _audience(self, channels: tuple[str, ...]) -> list[Connection]:
        """The connections on any of `channels`, each once."""
        first = channels[0]
        audience = list(self._by_channel.get(first, ()))
        for channel in channels[1:]:
            audience += [c for c in self._by_channel.get(channel, ()) if first not in c.channels]
        return audience

    def publish_message(self, subject: str, data: bytes) -> bool:
        """Fan out one NATS message at the end of this turn of the loop, with the others
        published in it; False (counted, dropped) when it is invalid or goes nowhere."""
        try:
            message = decode(data)
        except ValidationError:
            INVALID_EVENTS.inc()
            log.warning("not forwarding an invalid message", extra={"subject": subject})
            return False
        channels = channels_for(subject, message)
        if not channels:
            INVALID_EVENTS.inc()
            return False
        kind = message.type  # type: ignore[attr-defined]
        _EVENT_COUNTERS[ROUTES[kind][1]].inc()
        frame = Frame(envelope(channels[0], kind, data.decode()))
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append((channels, frame))
        self._pending_bytes += len(frame.wire)
        if self._pending_bytes >= BATCH_BYTES:
            self.flush()  # the callback finds nothing, or the rest of the turn
        return True

    def broadcast_all(self, frame: Frame) -> None:
        for connection in self.connections:
            connection.offer(frame)

    # -- heartbeat and dead clients ---------------------------------------------------------

    def start(self) -> None:
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat(), name="ws-heartbeat")

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        for connection in list(self.connections):
            connection.close()

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            self.close_stuck(loop.time())
            now = datetime.now(UTC).isoformat(timespec="seconds")
            self.broadcast_all(Frame(system("heartbeat", {"ts": now})))

    def close_stuck(self, now: float) -> int:
        """Close every client whose current send started over `send_timeout` s ago."""
        stuck = [
            c
            for c in self.connections
            if c.sending_since is not None and now - c.sending_since > self.send_timeout
        ]
        for connection in stuck:
            WS_DISCONNECTS.labels("send_timeout").inc()
            connection.close()
        return len(stuck)

"""The fan-out: every NATS message serialized once and offered to each subscribed client.

The process holds one set of NATS subscriptions (see `nats_link`), whatever the number
of clients. For each message the hub validates it, finds its channels, builds the frame
text once, and calls `offer` on every connection subscribed to one of them: a dict
look-up and a write of the frame's shared bytes (or a deque append) per client, no await,
so one slow client costs the others nothing. A heartbeat task offers one shared
`heartbeat` frame to every client every `heartbeat_seconds` and closes clients whose
socket has not taken a frame for `send_timeout` seconds (a dead peer that stopped
reading).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import ValidationError

from swingflow_common.messages import decode
from swingflow_gateway.metrics import EVENTS, INVALID_EVENTS, WS_CLIENTS, WS_DISCONNECTS
from swingflow_gateway.ws.channels import ROUTES, channels_for, envelope, system
from swingflow_gateway.ws.connection import Connection
from swingflow_gateway.ws.frames import Frame

log = logging.getLogger(__name__)

_EVENT_COUNTERS = {kind: EVENTS.labels(kind) for _, kind in ROUTES.values()}


class Hub:
    """Who listens to which channel, and the broadcast of one frame to them."""

    def __init__(self, heartbeat_seconds: float = 15.0, send_timeout: float = 30.0) -> None:
        self.heartbeat_seconds = heartbeat_seconds
        self.send_timeout = send_timeout
        self.connections: set[Connection] = set()
        self._by_channel: defaultdict[str, set[Connection]] = defaultdict(set)
        self._heartbeat: asyncio.Task[None] | None = None

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

    def publish_message(self, subject: str, data: bytes) -> int:
        """Fan out one NATS message; an invalid one is counted and dropped. Returns offers."""
        try:
            message = decode(data)
        except ValidationError:
            INVALID_EVENTS.inc()
            log.warning("not forwarding an invalid message", extra={"subject": subject})
            return 0
        channels = channels_for(subject, message)
        if not channels:
            INVALID_EVENTS.inc()
            return 0
        kind = message.type  # type: ignore[attr-defined]
        _EVENT_COUNTERS[ROUTES[kind][1]].inc()
        return self.broadcast(channels, Frame(envelope(channels[0], kind, data.decode())))

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

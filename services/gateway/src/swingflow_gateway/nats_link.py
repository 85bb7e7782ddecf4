"""The gateway's one NATS connection: core subscriptions for the fan-out, KV and publish.

The gateway starts and answers REST even while NATS is down: `start` connects in the
background, retrying with a growing delay, and `/readyz` says `nats: false` until it is
up. Once connected, nats-py reconnects by itself and keeps the subscriptions.

The subscriptions are plain core NATS (not JetStream consumers): a dashboard wants what
happens now, and a message published to a JetStream subject reaches core subscribers too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.kv import KeyValue

from swingflow_common.bus import ensure_streams
from swingflow_common.observability import SERVICE_READY
from swingflow_gateway.metrics import SERVICE

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = 5.0


class NatsUnavailableError(RuntimeError):
    """NATS is not connected right now."""


class NatsLink:
    """Connects to `servers`, subscribes `subjects` and hands each message to `on_message`."""

    def __init__(
        self,
        servers: list[str],
        subjects: tuple[str, ...],
        on_message: Callable[[str, bytes], object],
    ) -> None:
        self.servers = servers
        self.subjects = subjects
        self.on_message = on_message
        self.client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()
        self._closing = False

    @property
    def connected(self) -> bool:
        """Connected, with the fan-out subscriptions registered on the server."""
        return self.subscribed.is_set() and self.client is not None and self.client.is_connected

    def start(self) -> None:
        SERVICE_READY.labels(SERVICE).set(0)  # shown as not ready until subscribed
        self._task = asyncio.create_task(self._connect_until_up(), name="nats-connect")

    async def _connect_until_up(self) -> None:
        delay = 0.2
        while True:
            try:
                client = await nats.connect(
                    servers=self.servers,
                    name="swingflow-gateway",
                    connect_timeout=2,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    disconnected_cb=self._down,
                    reconnected_cb=self._up,
                    error_cb=self._error,
                )
                break
            except Exception as exc:  # refused, timed out, no servers: try again
                log.warning("NATS not reachable yet (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
        self.client = client
        try:
            await ensure_streams(client.jetstream())  # the KV buckets the weights endpoint uses
        except Exception as exc:  # no JetStream on this server: the fan-out still works
            log.warning("JetStream streams and buckets not ensured: %r", exc)
        for subject in self.subjects:
            await client.subscribe(subject, cb=self._deliver, pending_msgs_limit=1_000_000)
        await client.flush()
        self.subscribed.set()
        await self._up()
        log.info("NATS connected, fan-out subscribed", extra={"subjects": list(self.subjects)})

    async def _deliver(self, msg: Msg) -> None:
        try:
            self.on_message(msg.subject, msg.data)
        except Exception:  # one bad message must not end the subscription
            log.exception("fan-out failed for a message", extra={"subject": msg.subject})

    async def _down(self) -> None:
        SERVICE_READY.labels(SERVICE).set(0)
        if not self._closing:
            log.warning("NATS disconnected; reconnecting")

    async def _up(self) -> None:
        if self.subscribed.is_set():
            SERVICE_READY.labels(SERVICE).set(1)

    async def _error(self, exc: Exception) -> None:
        log.warning("NATS error: %r", exc)

    def _require(self) -> Client:
        if self.client is None or not self.client.is_connected:
            raise NatsUnavailableError("NATS is not connected")
        return self.client

    async def key_value(self, bucket: str) -> KeyValue:
        return await self._require().jetstream().key_value(bucket)

    async def publish(self, subject: str, data: bytes) -> None:
        """Publish on core NATS and flush, so the message has left when this returns."""
        client = self._require()
        await client.publish(subject, data)
        await client.flush(timeout=5)

    async def close(self) -> None:
        self._closing = True
        SERVICE_READY.labels(SERVICE).set(0)
        if self._task is not None:
            await _cancel(self._task)
        if self.client is not None and not self.client.is_closed:
            try:
                await asyncio.wait_for(self.client.drain(), 5)
            except Exception as exc:
                log.debug("NATS drain: %r", exc)
                await self.client.close()


async def _cancel(task: asyncio.Task[None], attempts: int = 25) -> None:
    """Cancel `task` and wait for it, cancelling again if a cancellation was swallowed.

    On Python 3.11, `asyncio.wait_for` inside nats-py's connect can swallow a
    cancellation that lands as its inner call finishes; the connect loop (which retries
    forever) would then never end, so the cancellation is repeated until it takes.
    """
    for _ in range(attempts):
        if task.done():
            break
        task.cancel()
        await asyncio.wait({task}, timeout=0.2)
    if task.done() and not task.cancelled():
        task.exception()  # retrieved, so asyncio does not warn about it

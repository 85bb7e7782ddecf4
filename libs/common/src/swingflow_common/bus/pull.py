"""A batch pull consumer on plain nats-py, for handlers that need a whole batch at once.

Why not FastStream's batch subscriber here: in FastStream 0.7.8 its pull loop keeps
fetching until the batch is full or its deadline passes, and catches only nats-py's own
`nats.errors.TimeoutError`. When the deadline runs out between two fetches, nats-py raises
the built-in `TimeoutError` instead; the loop task dies and is restarted, and the messages
it had already fetched for the batch are neither handled nor acked, so they wait for
`ack_wait` (30 s) before redelivery. Under load that happens often. This loop makes one
fetch per batch (nats-py waits up to `fetch_timeout` for it to fill) and treats both
timeouts as "nothing yet".

    consumer = BatchConsumer(js, PullSpec(subjects.BARS_ALL, "MARKET", "portfolio-bars"),
                             handle=on_bars, name="bars")
    await consumer.start()      # creates (or binds to) the durable consumer
    ...
    await consumer.stop()       # lets the batch in hand finish, then stops

`handle(messages)` owns the acks (see `handle_each`); a message it leaves unacked because
it raised is nacked with a short delay, so it is redelivered rather than forgotten.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from swingflow_common.bus.dead_letter import MAX_DELIVER
from swingflow_common.observability import track_handler

log = logging.getLogger(__name__)

ACK_WAIT = 30.0
LINGER_FETCH = 0.01  # seconds the fetch after a linger waits when nothing came meanwhile


@dataclass(frozen=True)
class PullSpec:
    """Where a durable pull consumer reads, and how much it takes at once.

    `max_ack_pending` limits the messages handed out and not yet acked across every
    process bound to the durable (None: the server's default).

    `linger` (seconds, 0 = off): when a fetch returns fewer than `batch_size` messages,
    wait this long once and take what has come meanwhile, so a steady trickle is handled
    in a few full batches instead of many small ones (each a transaction). Only for a
    consumer whose messages can wait that long: it adds up to `linger` to each one's time.
    """

    subject: str
    stream: str
    durable: str
    batch_size: int = 64
    fetch_timeout: float = 0.5
    max_deliver: int = MAX_DELIVER
    ack_wait: float = ACK_WAIT
    max_ack_pending: int | None = None
    linger: float = 0.0

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            max_deliver=self.max_deliver,
            ack_wait=self.ack_wait,
            max_ack_pending=self.max_ack_pending,
        )


Handler = Callable[[list[Msg]], Awaitable[None]]


class BatchConsumer:
    """Fetches batches from a durable consumer and hands each to `handle`, one at a time."""

    def __init__(
        self,
        js: JetStreamContext,
        spec: PullSpec,
        handle: Handler,
        name: str,
        service: str = "",
        retry_delay: float = 1.0,
    ) -> None:
        self.js = js
        self.spec = spec
        self.handle = handle
        self.name = name
        self.service = service
        self.retry_delay = retry_delay
        self._sub: JetStreamContext.PullSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = False

    async def start(self) -> None:
        spec = self.spec
        self._sub = await self.js.pull_subscribe(
            spec.subject, durable=spec.durable, stream=spec.stream, config=spec.consumer_config()
        )
        self._running = True
        self._task = asyncio.create_task(self._run(), name=f"pull-{spec.durable}")

    async def _fetch(self) -> list[Msg]:
        assert self._sub is not None
        spec = self.spec
        try:
            messages = await self._sub.fetch(spec.batch_size, timeout=spec.fetch_timeout)
        except TimeoutError:  # the built-in one and nats.errors.TimeoutError alike
            return []
        if spec.linger > 0 and len(messages) < spec.batch_size and self._running:
            await asyncio.sleep(spec.linger)
            try:  # what came meanwhile is there at once; nothing: a short wait
                more = await self._sub.fetch(spec.batch_size - len(messages), timeout=LINGER_FETCH)
            except TimeoutError:
                more = []
            messages += more
        return messages

    async def _run(self) -> None:
        while self._running:
            try:
                messages = await self._fetch()
            except asyncio.CancelledError:
                raise
            except Exception:  # a reconnect in progress: nats-py redelivers nothing lost
                log.warning("fetch failed; trying again", exc_info=True,
                            extra={"durable": self.spec.durable})  # fmt: skip
                await asyncio.sleep(self.retry_delay)
                continue
            if messages:
                await self._handle(messages)

    async def _handle(self, messages: list[Msg]) -> None:
        try:
            with track_handler(self.service, self.name):
                await self.handle(messages)
        except Exception:
            log.exception("batch handler raised", extra={"durable": self.spec.durable})
            for msg in messages:
                if not msg._ackd:
                    with suppress(Exception):
                        await msg.nak(delay=self.retry_delay)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop fetching; let the batch in hand finish (up to `grace` seconds)."""
        self._running = False
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self._task.cancel()
                with suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._sub is not None:
            with suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

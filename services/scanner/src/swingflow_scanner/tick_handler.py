"""`md.ticks.*`: ticks into daily bars, published on `md.bars.<SYM>` once closed.

The owner of a symbol aggregates its ticks (`ticks.TickAggregator`); bad and late ticks
are dead-lettered. A closed bar is published with its `Nats-Msg-Id` and then flows through
the same path as any bar; a bar whose publishing fails is kept and retried by the timer.

The open bars live in memory, and ticks are acked once aggregated. So that a restart in
the middle of a session does not publish a partial bar, `recover` first replays, from the
stream, the ticks this replica had already acked for the sessions that may still be open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from swingflow_common import subjects
from swingflow_common.bus import dead_letter, publish
from swingflow_common.messages import Bar, Tick, utcnow
from swingflow_scanner import metrics
from swingflow_scanner.decoding import Rejected, decode_as
from swingflow_scanner.partition import Partition
from swingflow_scanner.settings import SERVICE
from swingflow_scanner.ticks import NEW_YORK, TickAggregator, TickFit, session_of

log = logging.getLogger(__name__)
REPLAY_FETCH = 1_000


class TickHandler:
    def __init__(
        self,
        js: JetStreamContext,
        partition: Partition,
        grace: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.js, self.partition, self.clock = js, partition, clock
        self.aggregator = TickAggregator(grace)
        self.unpublished: list[Bar] = []

    def _owned(self, msg: Msg) -> bool:
        owned: bool = self.partition.owns(subjects.symbol_from_subject(msg.subject))
        return owned

    async def __call__(self, msgs: Sequence[Msg]) -> None:
        for msg in msgs:
            if self._owned(msg):
                await self._take(msg)
            await msg.ack()
        await self.flush()

    async def _take(self, msg: Msg) -> None:
        tick = decode_as(msg, Tick)
        if isinstance(tick, Rejected):
            metrics.TICKS.labels("invalid").inc()
            await dead_letter(self.js, SERVICE, msg.subject, msg.data, tick.reason, tick.kind)
            return
        result = self.aggregator.add(tick)
        metrics.TICKS.labels(result.fit.value).inc()
        if result.fit is TickFit.LATE:
            await dead_letter(self.js, SERVICE, msg.subject, msg.data, result.reason)
        self.unpublished += result.closed

    async def on_timer(self) -> None:
        """Close the bars whose session (plus grace) is over, and publish what is pending."""
        self.unpublished += self.aggregator.close_due(self.clock())
        await self.flush()

    async def flush(self) -> None:
        while self.unpublished:
            bar = self.unpublished[0]
            try:
                await publish(self.js, subjects.bars(bar.symbol), bar)
            except Exception:
                log.warning("publishing a bar built from ticks failed; will retry", exc_info=True)
                return
            self.unpublished.pop(0)
            metrics.BARS_BUILT.inc()

    async def recover(self, acked_through: int, window: timedelta) -> int:
        """Replay the acked ticks (stream sequence <= `acked_through`) of the sessions that
        may still be open: those stored in the last `window`, from the session that ended
        a day before now; returns how many were replayed."""
        if acked_through <= 0:
            return 0
        oldest = (
            (self.clock() - self.aggregator.grace - timedelta(days=1)).astimezone(NEW_YORK).date()
        )
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=utcnow() - window,
            inactive_threshold=5.0,
        )
        sub = await self.js.pull_subscribe(subjects.TICKS_ALL, stream="MARKET", config=config)
        replayed = 0
        try:
            while True:
                try:
                    msgs = await sub.fetch(REPLAY_FETCH, timeout=1.0)
                except TimeoutError:
                    break
                for msg in msgs:
                    await msg.ack()
                    if msg.metadata.sequence.stream > acked_through:
                        return replayed
                    tick = decode_as(msg, Tick) if self._owned(msg) else None
                    if isinstance(tick, Tick) and (session_of(tick.ts) or oldest) >= oldest:
                        self.aggregator.add(tick)
                        replayed += 1
        finally:
            await sub.unsubscribe()
            log.info("ticks replayed after a restart", extra={"ticks": replayed})
        return replayed

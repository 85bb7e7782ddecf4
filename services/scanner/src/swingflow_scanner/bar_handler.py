"""One fetched batch of `md.bars.*`: decode, take in, store, analyze, announce, ack.

The delivery rules of docs/services.md, applied to a batch:
- a bad message (not JSON, invalid, a tick on a bar subject, a late or out-of-order bar)
  is dead-lettered with its reason by the symbol's owner, counted and acked; the batch
  goes on;
- the owned new bars are stored in one transaction, committed before any candidate is
  published (a failed write is retried, then the batch is rolled back in memory and each
  message is nacked with a delay, or dead-lettered on its last delivery);
- a message redelivered after a failure that came after the commit is a duplicate: its
  candidates are announced again, and `Nats-Msg-Id` drops what was already published.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from swingflow_common import subjects
from swingflow_common.bus import MAX_DELIVER, dead_letter, delivery_count, publish
from swingflow_common.bus.dead_letter import RETRY_DELAYS
from swingflow_common.db import repository
from swingflow_common.messages import Bar
from swingflow_scanner import metrics
from swingflow_scanner.decoding import Rejected, decode_as
from swingflow_scanner.settings import SERVICE
from swingflow_scanner.state import Found, ScannerState
from swingflow_scanner.store import Sessions

log = logging.getLogger(__name__)


class BarHandler:
    def __init__(
        self,
        js: JetStreamContext,
        sessions: Sessions,
        state: ScannerState,
        kv: KeyValue | None,
        db_retries: int = 4,
    ) -> None:
        self.js, self.sessions, self.state, self.kv = js, sessions, state, kv
        self.db_retries = db_retries

    async def __call__(self, msgs: Sequence[Msg]) -> None:
        started = time.perf_counter()
        metrics.BATCH_MESSAGES.observe(len(msgs))
        kept, bars = await self._decode(msgs)
        intake = self.state.intake(bars, [delivery_count(m) > 1 for m in kept])
        for fit in intake.fits:
            metrics.BARS.labels(fit.value).inc()
        for position in intake.refused:
            await self._refuse(kept[position], bars[position])
        if not await self._store(intake.to_store, kept):
            self.state.rollback(intake)
            await self._fail(kept, "storing the bars failed")
            return
        try:
            self.state.record_rocs(intake)
            found = self.state.analyze(intake)
            await self._announce(found)
        except Exception:
            log.exception("analysis or publishing failed; the batch will be redelivered")
            await self._fail(kept, "analysis or publishing failed")
            return
        for msg in kept:
            await msg.ack()
        self.state.trim()
        self._gauge(bars)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)

    async def _decode(self, msgs: Sequence[Msg]) -> tuple[list[Msg], list[Bar]]:
        """The valid bars and their messages; the others are dead-lettered and acked."""
        kept: list[Msg] = []
        bars: list[Bar] = []
        for msg in msgs:
            result = decode_as(msg, Bar)
            if isinstance(result, Rejected):
                metrics.BARS.labels("invalid").inc()
                if self.state.partition.owns(subjects.symbol_from_subject(msg.subject)):
                    await dead_letter(
                        self.js, SERVICE, msg.subject, msg.data, result.reason, result.kind
                    )
                await msg.ack()
                continue
            kept.append(msg)
            bars.append(result)
        return kept, bars

    async def _refuse(self, msg: Msg, bar: Bar) -> None:
        last = self.state.books[bar.symbol].ts[-1].astype("datetime64[ns]")
        reason = f"out of order: a bar at {bar.ts:%Y-%m-%dT%H:%M}Z after the bar at {last}"
        await dead_letter(self.js, SERVICE, msg.subject, msg.data, reason, "invalid_message")

    async def _store(self, bars: list[Bar], msgs: Sequence[Msg]) -> bool:
        for attempt in range(self.db_retries):
            try:
                if bars:
                    async with self.sessions.begin() as session:
                        await repository.upsert_bars(session, bars)
                return True
            except Exception:
                log.warning("storing bars failed", exc_info=True, extra={"attempt": attempt + 1})
                if attempt + 1 < self.db_retries:
                    await asyncio.gather(*(m.in_progress() for m in msgs), return_exceptions=True)
                    await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
        return False

    async def _announce(self, found: Found) -> None:
        """Candidates on `signals.candidate.<SYM>`, then the latest analyses in the KV."""
        await asyncio.gather(
            *(publish(self.js, subjects.candidates(c.symbol), c) for c in found.candidates)
        )
        for c in found.candidates:
            metrics.CANDIDATES.labels(c.setup).inc()
        metrics.ANALYSES.inc(found.analyses)
        if self.kv is not None:
            kv = self.kv
            await asyncio.gather(
                *(
                    kv.put(subjects.token(a.symbol), a.model_dump_json().encode())
                    for a in found.latest
                )
            )

    async def _fail(self, msgs: Sequence[Msg], why: str) -> None:
        """Nack each message with a delay, or dead-letter it on its last delivery."""
        metrics.BATCH_FAILURES.inc()
        for msg in msgs:
            delivered = delivery_count(msg)
            if delivered < MAX_DELIVER:
                await msg.nak(delay=RETRY_DELAYS[min(delivered, len(RETRY_DELAYS)) - 1])
            else:
                reason = f"gave up after {delivered} deliveries: {why}"
                await dead_letter(self.js, SERVICE, msg.subject, msg.data, reason, "gave_up")
                await msg.ack()

    def _gauge(self, bars: list[Bar]) -> None:
        if bars:
            metrics.LAST_BAR.set(max(b.ts for b in bars).timestamp())
        owned = sum(1 for s in self.state.books if self.state.partition.owns(s))
        metrics.SYMBOLS.labels("true").set(owned)
        metrics.SYMBOLS.labels("false").set(len(self.state.books) - owned)

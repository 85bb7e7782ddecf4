"""One fetched batch of `md.bars.*`: decode, take in, store, analyze, announce, ack.

The delivery rules of docs/services.md, applied to a batch whose order matters:
- a bad message (not JSON, invalid, a tick on a bar subject, a late or out-of-order bar)
  is dead-lettered with its reason by the symbol's owner, counted and acked; the batch
  goes on;
- the owned new bars are stored (an upsert on a held connection, each statement
  committed on its own: `db.Writer`) before any candidate is published;
- a transient fault (database locked, NATS timeout) retries the whole batch in place,
  after a growing delay (the messages are kept `in_progress`), rather than nacking it: a
  nacked batch would come back after newer bars and be refused as out of order. After
  `max_attempts` the batch is dead-lettered (`gave_up`) and acked: never dropped silently,
  never retried forever;
- a retry, or a redelivery after a crash, finds the bars already taken in: their
  candidates are announced again, and `Nats-Msg-Id` drops what was already published.

After the commit, the symbols are analyzed one at a time and their candidates (and latest
analyses, for the `analysis` KV bucket) are announced without waiting for each ack
(`bus.PublishBatch`), in slices: what a long batch has found goes out every
`announce_every` seconds of analysis, so the signals service judges the first candidates
while the scanner analyzes the rest, in batches big enough to be worth one ML request and
one write. The batch's bars are acked once every announcement is acknowledged. A
latest analysis left at the setup tier (no setup on its last bar) is completed later by
`finish_latest`, which the service calls only while no batch is being handled
(`quiet_for`).
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
from swingflow_common.bus import MAX_DELIVER, PublishBatch, dead_letter, delivery_count
from swingflow_common.bus.dead_letter import RETRY_DELAYS
from swingflow_common.db import Writer, repository
from swingflow_common.messages import Bar
from swingflow_scanner import metrics
from swingflow_scanner.decoding import Rejected, decode_as
from swingflow_scanner.settings import SERVICE
from swingflow_scanner.state import Intake, ScannerState

log = logging.getLogger(__name__)


class BarHandler:
    def __init__(
        self,
        js: JetStreamContext,
        writer: Writer,
        state: ScannerState,
        kv: KeyValue | None,
        max_attempts: int = MAX_DELIVER,
        announce_every: float = 0.1,
    ) -> None:
        self.js, self.writer, self.state, self.kv = js, writer, state, kv
        self.max_attempts = max_attempts
        self.announce_every = announce_every
        self.busy = False
        self.last_done = time.monotonic()  # when the last batch was done (monotonic clock)
        self._counted = -1  # books counted in the symbols gauge
        self.stored_symbols: set[str] = set()  # symbols whose row this handler has made

    async def __call__(self, msgs: Sequence[Msg]) -> None:
        self.busy = True
        try:
            await self._batch(msgs)
        finally:
            self.busy = False
            self.last_done = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the last batch was done (0 while one is being handled)."""
        return 0.0 if self.busy else time.monotonic() - self.last_done

    async def finish_latest(self) -> bool:
        """Complete one latest analysis left at the setup tier and write it to the KV
        bucket; False when none was left. A failed write is logged: the setup tier stays
        until the symbol's next bar."""
        latest = self.state.finish_latest()
        if latest is None:
            return bool(self.state.unfinished)
        metrics.LATEST_FINISHED.inc()
        if self.kv is not None:
            try:
                await self.kv.put(subjects.token(latest.symbol), latest.model_dump_json().encode())
            except Exception:
                log.warning("latest analysis not written", exc_info=True,
                            extra={"symbol": latest.symbol})  # fmt: skip
        return True

    async def _batch(self, msgs: Sequence[Msg]) -> None:
        started = time.perf_counter()
        metrics.BATCH_MESSAGES.observe(len(msgs))
        kept, bars = await self._decode(msgs)
        for attempt in range(1, self.max_attempts + 1):
            again = [attempt > 1 or delivery_count(m) > 1 for m in kept]
            intake = self.state.intake(bars, again)
            try:
                await self._handle(intake, kept, bars)
                break
            except Exception as exc:
                metrics.BATCH_FAILURES.inc()
                log.warning("batch failed; retrying it", exc_info=True, extra={"attempt": attempt})
                if attempt == self.max_attempts:
                    await self._give_up(kept, exc)
                    return
                await self._hold(kept, RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1])
        for msg in kept:
            await msg.ack()
        self.state.trim(intake.changed)
        for fit in intake.fits:
            metrics.BARS.labels(fit.value).inc()
        self._gauge(bars)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)

    async def _handle(self, intake: Intake, kept: Sequence[Msg], bars: Sequence[Bar]) -> None:
        """Store, then analyze and announce; raises (with the books as before) on a fault."""
        try:
            if intake.to_store:
                async with self.writer.connection() as connection:
                    await repository.upsert_bars(connection, intake.to_store, self.stored_symbols)
        except BaseException:
            self.state.rollback(intake)  # not stored: the books must not run ahead
            self.stored_symbols.clear()  # a symbol row deleted meanwhile: made again
            raise
        self.stored_symbols.update(b.symbol for b in intake.to_store)
        self.state.record_rocs(intake)
        await self._announce(intake)
        for position in intake.refused:
            await self._refuse(kept[position], bars[position])

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

    async def _announce(self, intake: Intake) -> None:
        """Analyze symbol by symbol; put the candidates on `signals.candidate.<SYM>` and the
        latest analyses in the KV, in order, a slice at a time; then wait for every ack (a
        failure raises: the batch is retried, and the ids drop what already went out)."""
        out = PublishBatch(self.js)
        setups: list[str] = []
        analyses = 0
        sent = time.perf_counter()
        try:
            for found in self.state.analyze_each(intake):
                for c in found.candidates:
                    await out.add(subjects.candidates(c.symbol), c)
                    setups.append(c.setup)
                if self.kv is not None:
                    for a in found.latest:
                        key = subjects.kv_key(subjects.ANALYSIS_BUCKET, subjects.token(a.symbol))
                        await out.add_bytes(key, a.model_dump_json().encode())
                analyses += found.analyses
                if time.perf_counter() - sent >= self.announce_every:
                    await asyncio.sleep(0)  # nats-py's flusher sends the slice meanwhile
                    sent = time.perf_counter()
            await out.confirm()
        except BaseException:
            out.cancel()
            raise
        for setup in setups:
            metrics.CANDIDATES.labels(setup).inc()
        metrics.ANALYSES.inc(analyses)

    @staticmethod
    async def _hold(msgs: Sequence[Msg], seconds: float) -> None:
        """Wait before a retry, keeping the messages ours (their ack timer restarts)."""
        await asyncio.gather(*(m.in_progress() for m in msgs), return_exceptions=True)
        await asyncio.sleep(seconds)
        await asyncio.gather(*(m.in_progress() for m in msgs), return_exceptions=True)

    async def _give_up(self, msgs: Sequence[Msg], exc: Exception) -> None:
        """Dead-letter (`gave_up`) and ack each message: kept, never retried forever."""
        reason = f"gave up after {self.max_attempts} attempts: {type(exc).__name__}: {exc}"
        for msg in msgs:
            await dead_letter(self.js, SERVICE, msg.subject, msg.data, reason, "gave_up")
            await msg.ack()

    def _gauge(self, bars: list[Bar]) -> None:
        if bars:
            metrics.LAST_BAR.set(max(b.ts for b in bars).timestamp())
        if len(self.state.books) != self._counted:  # books are only ever added
            self._counted = len(self.state.books)
            owned = sum(1 for s in self.state.books if self.state.partition.owns(s))
            metrics.SYMBOLS.labels("true").set(owned)
            metrics.SYMBOLS.labels("false").set(len(self.state.books) - owned)

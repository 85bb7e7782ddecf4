"""portfolio's consumers: confirmed signals -> allocations; bars -> fills, exits and marks.
Both are `bus.pull.BatchConsumer`s on plain nats-py (`signals_spec`, `bars_spec`): FastStream
0.7.8's pull subscriber dies on nats-py's built-in fetch timeout whenever it is idle,
logging it, restarting its task and keeping the dead one.

Bars must reach the book in order (a stop is checked bar by bar), so the bars consumer is
kept strictly sequential across every replica: `max_ack_pending` equals the batch size,
so the server hands out no new batch until the last one is acked, and the batch is acked
only after its commit. A transient failure is retried in place (the messages are kept
alive meanwhile) rather than nacked, because a nack would let later bars overtake it;
after `bar_attempts` tries the batch is dead-lettered (`gave_up`) and the book moves on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeVar

from faststream.nats import NatsBroker
from nats.aio.msg import Msg

from swingflow_common import subjects
from swingflow_common.bus import (
    dead_letter,
    decode_or_dead_letter,
    delivery_count,
    retry_or_dead_letter,
)
from swingflow_common.bus.pull import PullSpec
from swingflow_common.messages import Bar, ConfirmedSignal
from swingflow_portfolio import metrics
from swingflow_portfolio.ledger import Ledger
from swingflow_portfolio.settings import Settings

SERVICE = "portfolio"
BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0)  # seconds between tries of a failing batch of bars

log = logging.getLogger("swingflow.portfolio")
T = TypeVar("T")


async def _ack(raw: Msg) -> None:
    with suppress(Exception):  # acked already, or a test message
        await raw.ack()


async def attempt(work: Callable[[], Awaitable[T]], raws: list[Msg], tries: int) -> T | None:
    """`work()` until it succeeds, at most `tries` times, keeping `raws` from redelivery."""
    for n in range(tries):
        try:
            return await work()
        except Exception:
            log.warning("bars batch failed (try %d of %d)", n + 1, tries, exc_info=True)
            if n + 1 == tries:
                return None
            for raw in raws:
                with suppress(Exception):
                    await raw.in_progress()
            await asyncio.sleep(BACKOFF[min(n, len(BACKOFF) - 1)])
    return None


async def apply_batch(
    broker: NatsBroker, ledger: Ledger, settings: Settings, raws: list[Msg]
) -> None:
    """Decode a batch of bars, apply it to the book, announce the fills, then ack it all."""
    bars: list[Bar] = []
    kept: list[Msg] = []
    for raw in raws:
        bar = await decode_or_dead_letter(broker, SERVICE, raw, Bar)
        if bar is None:
            continue
        if bar.interval != settings.interval:
            metrics.BARS.labels("other_interval").inc()
            continue
        bars.append(bar)
        kept.append(raw)
    if bars:
        redelivered = any(delivery_count(raw) > 1 for raw in kept)
        applied = await attempt(
            lambda: ledger.apply_bars(bars, redelivered), kept, settings.bar_attempts
        )
        if applied is None:
            for raw in kept:
                reason = f"gave up after {settings.bar_attempts} tries of its batch"
                await dead_letter(broker, SERVICE, raw.subject, raw.data, reason, "gave_up")
        else:
            metrics.BARS.labels("applied").inc(len(bars))
            announced = await attempt(
                lambda: ledger.announce(applied.fills), kept, settings.bar_attempts
            )
            if announced is None:
                log.error(
                    "fills stored but not announced", extra={"fills": [f.id for f in applied.fills]}
                )
    for raw in raws:
        await _ack(raw)


def bars_spec(settings: Settings) -> PullSpec:
    """The durable consumer of bars: one batch in flight across every process bound to it."""
    size = settings.bars_batch_size
    return PullSpec(subjects.BARS_ALL, "MARKET", settings.bars_durable, batch_size=size,
                    fetch_timeout=settings.fetch_timeout, max_ack_pending=size,
                    linger=settings.bars_linger)  # fmt: skip


async def allocate_batch(broker: NatsBroker, ledger: Ledger, raws: list[Msg]) -> None:
    """A batch of confirmed signals, in order, in one transaction (`Ledger.allocate_many`),
    then acked. Bad messages are dead-lettered; if the batch fails, each signal is retried
    on its own (nacked with a delay, at last dead-lettered), so one poisonous signal never
    holds back or redelivers the rest."""
    items: list[tuple[Msg, ConfirmedSignal]] = []
    for raw in raws:
        signal = await decode_or_dead_letter(broker, SERVICE, raw, ConfirmedSignal)
        if signal is None:
            await _ack(raw)
        else:
            items.append((raw, signal))
    try:
        await ledger.allocate_many([(s, delivery_count(raw) > 1) for raw, s in items])
    except Exception:
        log.warning("signals batch failed; allocating one by one", exc_info=True)
        for raw, signal in items:
            try:
                async with retry_or_dead_letter(broker, SERVICE, raw):
                    await ledger.allocate(signal, redelivered=delivery_count(raw) > 1)
            except Exception:
                continue  # nacked with a delay: it comes back
            await _ack(raw)
        return
    for raw, _ in items:
        await _ack(raw)


def signals_spec(settings: Settings) -> PullSpec:
    """The durable consumer of confirmed signals (shared, like the bars', by every copy)."""
    return PullSpec(subjects.CONFIRMED_ALL, "SIGNALS", settings.signals_durable,
                    batch_size=settings.signals_batch_size,
                    fetch_timeout=settings.fetch_timeout)  # fmt: skip

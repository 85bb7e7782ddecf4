"""The replay loop: pace, wait for room, publish a day, move the cursor; repeat.

It talks to the world only through `Ports` (publish a day, save the cursor, read the
consumers' backlog, a clock and a sleep), so its pacing and backpressure are tested with a
fake clock, and the service plugs in NATS. A day whose publishing fails is retried (the
`Nats-Msg-Id` of each bar makes that harmless) until it succeeds or the service stops.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from swingflow_feed import metrics
from swingflow_feed.days import Day
from swingflow_feed.pacing import Clock, Pacer, Pending, Sleep, wait_for_room

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True)
class Ports:
    publish_day: Callable[[Day], Awaitable[int]]  # returns how many were duplicates
    save_cursor: Callable[[datetime], Awaitable[None]]
    pending: Pending
    clock: Clock
    sleep: Sleep


@dataclass(frozen=True)
class ReplayOptions:
    max_pending: int
    poll_interval_s: float = 0.05
    progress_every: int = 20
    total_days: int = 0  # for the progress gauge and logs


@dataclass(frozen=True)
class ReplayOutcome:
    days: int
    bars: int
    finished: bool  # False when stopped before the last day


async def _publish_with_retry(day: Day, ports: Ports) -> int | None:
    """The duplicates of the day once published, or None when stopping."""
    attempt = 0
    while True:
        try:
            return await ports.publish_day(day)
        except Exception as exc:
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            attempt += 1
            log.warning(
                "publishing a day failed; retrying",
                extra={"day": day.ts.date().isoformat(), "error": repr(exc), "retry_in_s": delay},
            )
            if not await ports.sleep(delay):
                return None


async def replay(
    days: Iterable[Day], pacer: Pacer, ports: Ports, options: ReplayOptions
) -> ReplayOutcome:
    """Publish `days` in order; returns when they are all out or `ports.sleep` says stop."""
    n_days = n_bars = 0
    for day in days:
        if not await ports.sleep(pacer.delay(day.index, ports.clock())):  # 0 s: a stop check
            return ReplayOutcome(n_days, n_bars, finished=False)
        started = ports.clock()
        if not await wait_for_room(
            ports.pending,
            options.max_pending,
            ports.sleep,
            options.poll_interval_s,
            metrics.WAITING.set,
        ):
            return ReplayOutcome(n_days, n_bars, finished=False)
        metrics.BACKPRESSURE_SECONDS.inc(max(0.0, ports.clock() - started))
        duplicates = await _publish_with_retry(day, ports)
        if duplicates is None:
            return ReplayOutcome(n_days, n_bars, finished=False)
        pacer.published(day.index, ports.clock())
        await ports.save_cursor(day.ts)
        n_days += 1
        n_bars += len(day.bars)
        _count(day, duplicates, options)
    return ReplayOutcome(n_days, n_bars, finished=True)


def _count(day: Day, duplicates: int, options: ReplayOptions) -> None:
    metrics.BARS_PUBLISHED.labels("false").inc(len(day.bars) - duplicates)
    metrics.BARS_PUBLISHED.labels("true").inc(duplicates)
    metrics.BARS_SKIPPED.inc(day.skipped)
    metrics.DAYS_PUBLISHED.inc()
    metrics.REPLAY_DATE.set(day.ts.timestamp())
    if options.total_days:
        metrics.REPLAY_PROGRESS.set((day.index + 1) / options.total_days)
    if (day.index + 1) % options.progress_every == 0:
        log.info(
            "replay progress",
            extra={
                "day": day.ts.date().isoformat(),
                "days_done": day.index + 1,
                "days_total": options.total_days,
                "bars": len(day.bars),
                "duplicates": duplicates,
            },
        )

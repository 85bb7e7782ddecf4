"""The `total` of `GET /api/signals`: how many signals match a filter, counted at most
a few seconds ago.

Counting was the costly part of a page: a page reads 50 rows from an index, a count reads
every matching row (on 50,000 signals: 3.5 ms of SQLite for a status, and a 60-150 ms
sequential scan on PostgreSQL until VACUUM has set the visibility map). So each filter's
count is kept and reused:

- for `TTL_S` seconds after the count began; after that, the next request for the filter
  gets the kept count and starts a recount in the background (one at a time per filter);
- a message on `signals.>` (the gateway hears every candidate and confirmation) marks the
  counts stale the same way, but a filter is recounted at most once per `MIN_AGE_S`, so a
  burst of signals costs one recount per filter, not one per request;
- only a filter never counted (or evicted: `MAX_FILTERS` are kept, least recently used
  first out) makes its request wait for the count; concurrent requests share that count;
- one count runs at a time (`MAX_COUNTING`), so filters that go stale together (a TTL
  reached at once, a signal message) do not start as many table scans together: on 2
  cores, two PostgreSQL scans at once (60-150 ms each before VACUUM) can take both.

So `total` may be behind the stored rows by up to `TTL_S` seconds plus one count. Hand-
written rather than a caching library: the kept-while-recounting behaviour, one count
per filter in flight, and staleness on a message are the point, and none of those is a
plain TTL cache's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.db import repository
from swingflow_common.db.repository import SignalFilter

log = logging.getLogger(__name__)

TTL_S = 5.0
MIN_AGE_S = 1.0
MAX_FILTERS = 256
MAX_COUNTING = 1  # a PostgreSQL count can hold a core ~100 ms: leave the other to requests
OnMessage: TypeAlias = Callable[[str, bytes], object]  # a NATS handler: (subject, data)
SIGNAL_SUBJECTS = "signals."  # the prefix of every subject that announces a signal


@dataclass(frozen=True)
class _Kept:
    count: int
    began: float  # the clock when the count began: what it can have missed starts there
    generation: int  # the `SignalCounts.generation` it began under


class SignalCounts:
    """Counts of signals by filter for one app (one database), reused as described above."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl_s: float | None = None,
        min_age_s: float | None = None,
        max_filters: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._ttl_s = TTL_S if ttl_s is None else ttl_s  # module values read now, not at import
        self._min_age_s = MIN_AGE_S if min_age_s is None else min_age_s
        self._max_filters = MAX_FILTERS if max_filters is None else max_filters
        self._clock = clock
        self._kept: OrderedDict[SignalFilter, _Kept] = OrderedDict()
        self._counting: dict[SignalFilter, asyncio.Task[int]] = {}
        self._slots = asyncio.Semaphore(MAX_COUNTING)
        self.generation = 0  # bumped by `invalidate`

    def invalidate(self) -> None:
        """Signals may have been written: every kept count is recounted when next asked."""
        self.generation += 1

    def watching(self, on_message: OnMessage) -> OnMessage:
        """`on_message` (a NATS message handler) that first invalidates on a signal subject."""

        def handle(subject: str, data: bytes) -> object:
            if subject.startswith(SIGNAL_SUBJECTS):
                self.invalidate()
            return on_message(subject, data)

        return handle

    def remember(self, where: SignalFilter, count: int) -> None:
        """An exact count known otherwise (a first page shorter than its limit)."""
        self._keep(where, _Kept(count, self._clock(), self.generation))

    async def count(self, where: SignalFilter) -> int:
        """The signals matching `where`: the kept count, or a fresh one if there is none."""
        kept = self._kept.get(where)
        if kept is None:
            # shielded: a request that goes away does not cancel a count others await
            return await asyncio.shield(self._recount(where))
        self._kept.move_to_end(where)
        age = self._clock() - kept.began
        if age > self._ttl_s or (kept.generation != self.generation and age > self._min_age_s):
            self._recount(where)  # in the background; this answer is the kept count
        return kept.count

    async def close(self) -> None:
        """Stop the counts still running (the app is shutting down)."""
        tasks = list(self._counting.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _recount(self, where: SignalFilter) -> asyncio.Task[int]:
        task = self._counting.get(where)
        if task is None:
            task = asyncio.create_task(self._count_now(where), name="signal-count")
            self._counting[where] = task
            task.add_done_callback(lambda done: self._done(where, done))
        return task

    def _done(self, where: SignalFilter, task: asyncio.Task[int]) -> None:
        if self._counting.get(where) is task:
            del self._counting[where]
        if not task.cancelled() and task.exception() is not None:
            # a request awaiting it got the error too; a background one is only logged
            log.warning("counting signals failed: %r", task.exception())

    async def _count_now(self, where: SignalFilter) -> int:
        async with self._slots:
            began, generation = self._clock(), self.generation
            async with self._sessions() as session:
                count = await repository.count_signals(session, where)
        self._keep(where, _Kept(count, began, generation))
        return count

    def _keep(self, where: SignalFilter, kept: _Kept) -> None:
        self._kept[where] = kept
        self._kept.move_to_end(where)
        while len(self._kept) > self._max_filters:
            self._kept.popitem(last=False)

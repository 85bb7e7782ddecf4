"""The portfolio's unit of work: lock the book, apply the pure domain, store, then announce.

Two events change the book: a confirmed signal (`allocate`) and a batch of bars
(`apply_bars`). Each runs in one transaction that starts by locking the book row
(`portfolio_repository.lock_book`), so any number of replicas, and the two consumers of
one process, take turns; an asyncio lock keeps one process from queueing on its own
database lock. Publishing happens after the commit.

Idempotent: an allocation already stored is not sized again (a redelivery announces it
again, and the server drops a duplicate), and a bar at or before the last one applied to
its symbol changes nothing (a redelivered bar re-announces the fills stored for it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from faststream.nats import NatsBroker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.bus import publish
from swingflow_common.config import RiskSettings
from swingflow_common.db import portfolio_repository as store
from swingflow_common.db import repository
from swingflow_common.db.models import AllocationRow, FillRow
from swingflow_common.messages import Allocation, Bar, ConfirmedSignal, Fill, utcnow
from swingflow_common.portfolio import Book, Rejection, allocate, on_bar
from swingflow_common.portfolio.fills import BarOutcome
from swingflow_portfolio import metrics

log = logging.getLogger("swingflow.portfolio")


def allocation_of(row: AllocationRow) -> Allocation:
    """The Allocation a stored row was announced as."""
    fields = ("id", "signal_id", "symbol", "ts", "side", "quantity", "price", "stop", "target",
              "risk_amount", "weight", "cash_after", "reason")  # fmt: skip
    return Allocation.model_validate(
        {**{f: getattr(row, f) for f in fields}, "ts_event": row.created_at}
    )


def fill_of(row: FillRow) -> Fill:
    """The Fill a stored row was announced as."""
    fields = ("id", "allocation_id", "symbol", "ts", "side", "quantity", "price", "commission",
              "slippage", "reason")  # fmt: skip
    return Fill.model_validate({**{f: getattr(row, f) for f in fields}, "ts_event": row.created_at})


@dataclass
class BarsPlan:
    """What a batch of bars does to a book: each bar's outcome, in bar-time order, and
    the book at the end of each bar time (the snapshots)."""

    start: Book
    outcomes: list[BarOutcome]
    snapshots: list[tuple[Book, datetime]]
    book: Book


def plan_bars(book: Book, bars: Sequence[Bar], risk: RiskSettings) -> BarsPlan:
    """Apply `bars` to `book` in (time, symbol) order; pure."""
    start, outcomes, snapshots = book, [], []
    ts_done = None
    for bar in sorted(bars, key=lambda b: (b.ts, b.symbol)):
        if ts_done is not None and bar.ts != ts_done:
            snapshots.append((book, ts_done))
        outcome = on_bar(book, bar, risk)
        outcomes.append(outcome)
        book, ts_done = outcome.book, bar.ts
    if ts_done is not None:
        snapshots.append((book, ts_done))
    return BarsPlan(start, outcomes, snapshots, book)


@dataclass
class BarsApplied:
    """What one batch of bars did: the fills to announce, and the book after it."""

    fills: list[Fill]
    book: Book


class Ledger:
    """The paper book behind the portfolio service."""

    def __init__(
        self,
        broker: NatsBroker,
        sessions: async_sessionmaker[AsyncSession],
        risk: RiskSettings,
        book_id: str = "paper",
    ) -> None:
        self.broker = broker
        self.sessions = sessions
        self.risk = risk
        self.book_id = book_id
        self._lock = asyncio.Lock()
        # (version, book) after this process's last commit: the next transaction skips
        # reading and parsing the stored book when no other copy has written since
        self._known: tuple[int, Book] | None = None

    @staticmethod
    def _committed(locked: Book, known: tuple[int, Book] | None) -> Book | None:
        """`locked` when it is the book this process committed last (so the positions
        table is known to match it), else None: the positions are then written whatever
        they are (another copy's write, a book row made anew beside old positions)."""
        return locked if known is not None and locked is known[1] else None

    @property
    def initial(self) -> Book:
        return Book.open(self.risk.initial_cash)

    async def read(self) -> Book:
        """The book as stored (the initial book before the first event)."""
        async with self.sessions() as session:
            return await store.read_book(session, self.book_id) or self.initial

    async def allocate(
        self, signal: ConfirmedSignal, redelivered: bool = False
    ) -> Allocation | Rejection | None:
        """Size `signal`, store and announce the allocation; None when decided before."""
        return (await self.allocate_many([(signal, redelivered)]))[0]

    async def allocate_many(
        self, signals: Sequence[tuple[ConfirmedSignal, bool]]
    ) -> list[Allocation | Rejection | None]:
        """Size each (signal, redelivered) in order, in one transaction on the locked book;
        store, commit, then announce: the same decisions as `allocate` one by one, for one
        round of locks and writes. None for a signal decided before (announced again when
        redelivered) or met earlier in the same batch."""
        start = time.perf_counter()
        decided: list[tuple[Allocation | Rejection | None, AllocationRow | None]] = []
        async with self._lock:
            async with self.sessions.begin() as session:
                version, book = await store.lock_book_at(session, self.initial, self.book_id,
                                                         self._known)  # fmt: skip
                replaces = self._committed(book, self._known)
                stored = await repository.get_allocations(session, [s.id for s, _ in signals])
                seen: set[str] = set()
                changed = False
                for signal, _ in signals:
                    if signal.id in stored or signal.id in seen:
                        decided.append((None, stored.get(signal.id)))
                        continue
                    seen.add(signal.id)
                    book, made = allocate(signal, book, self.risk, ts_event=utcnow())
                    if isinstance(made, Allocation):
                        await repository.save_allocation(session, made)
                        changed = True
                    decided.append((made, None))
                if changed:
                    await store.save_book(session, book, self.book_id, replaces=replaces)
            self._known = (version, book)  # committed
        metrics.ALLOCATION_SECONDS.observe(time.perf_counter() - start)
        out: list[Allocation | Rejection | None] = []
        for (signal, redelivered), (decision, row) in zip(signals, decided, strict=True):
            out.append(await self._announce(signal, redelivered, decision, row, book))
        return out

    async def _announce(
        self,
        signal: ConfirmedSignal,
        redelivered: bool,
        decision: Allocation | Rejection | None,
        stored: AllocationRow | None,
        book: Book,
    ) -> Allocation | Rejection | None:
        if decision is None:
            if stored is None or not redelivered:
                return None
            decision = allocation_of(stored)
        if isinstance(decision, Rejection):
            metrics.REJECTIONS.labels(decision.reason).inc()
            log.info("signal not taken", extra={"signal_id": signal.id, "reason": decision.reason,
                                                "detail": decision.detail})  # fmt: skip
            return decision
        await publish(self.broker, subjects.ALLOCATIONS, decision)
        if stored is None:
            metrics.ALLOCATIONS.inc()
            metrics.SIGNAL_TO_ALLOCATION.observe(
                max(0.0, (utcnow() - signal.ts_event).total_seconds())
            )
            metrics.export(book)
            extra = {"allocation_id": decision.id, "quantity": decision.quantity,
                     "reason": decision.reason}  # fmt: skip
            log.info("allocated", extra=extra)
        return decision

    async def apply_bars(self, bars: Sequence[Bar], redelivered: bool = False) -> BarsApplied:
        """Apply bars to the book and store what they did (not yet announced).

        The pure part is done before the book is locked, on the book this process
        committed last: if nobody wrote since (the usual case, one copy), the transaction
        only writes, and SQLite's one write lock, which the scanner and the signals
        service wait for, is held for the statements alone. Otherwise it is done again
        on the book as locked."""
        start = time.perf_counter()
        async with self._lock:
            known = self._known
            plan = plan_bars(known[1], bars, self.risk) if known is not None else None
            async with self.sessions.begin() as session:
                version, book = await store.lock_book_at(session, self.initial, self.book_id,
                                                         known)  # fmt: skip
                if plan is None or plan.start is not book:  # another copy wrote meanwhile
                    plan = plan_bars(book, bars, self.risk)
                for outcome in plan.outcomes:
                    await self._store(session, outcome)
                for snapshot, ts in plan.snapshots:
                    await store.save_snapshot(session, snapshot, ts)
                await store.save_book(session, plan.book, self.book_id,
                                      replaces=self._committed(book, known))  # fmt: skip
                fills = [fill for outcome in plan.outcomes for fill in outcome.fills]
                seen = book.last_bar
                stale = [b for b in bars if b.symbol in seen and b.ts <= seen[b.symbol]]
                if redelivered and stale:  # announced before? the server drops what was
                    old = await store.fills_at(session, [(b.symbol, b.ts) for b in stale])
                    fills = [*map(fill_of, old), *fills]
            self._known = (version, plan.book)  # committed
        metrics.BAR_BATCH_SECONDS.observe(time.perf_counter() - start)
        metrics.export(plan.book)
        return BarsApplied(fills, plan.book)

    async def _store(self, session: AsyncSession, outcome: BarOutcome) -> None:
        await store.open_trades(session, outcome.opened)
        for fill in outcome.fills:
            await repository.save_fill(session, fill, trade_id=fill.allocation_id)
            metrics.FILLS.labels(fill.side, "entry" if fill.side == "buy" else fill.reason).inc()
        await store.close_trades(session, outcome.closed)
        for cancel in outcome.cancelled:
            metrics.CANCELLATIONS.labels(cancel.reason).inc()
            extra = {"allocation_id": cancel.allocation_id, "detail": cancel.detail}
            log.info("allocation cancelled at the open", extra=extra)

    async def announce(self, fills: Sequence[Fill]) -> int:
        """Publish fills (after their commit); ids make a repeat harmless. Returns how many."""
        for fill in fills:
            await publish(self.broker, subjects.FILLS, fill)
        return len(fills)

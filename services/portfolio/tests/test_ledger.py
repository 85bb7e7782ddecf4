"""The ledger's unit of work on a real database: bars are applied before the book is
locked, on the book this process committed last, and again on the locked book when
another copy wrote in between."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import sqlalchemy as sa
from faststream.nats import NatsBroker
from portfolio_helpers import RISK, bar, confirmed

from swingflow_common.db import engine_from_url, migrate_async, session_factory
from swingflow_common.db.models import PositionRow
from swingflow_common.db.portfolio_repository import lock_book, read_book, save_book
from swingflow_common.portfolio import Book, allocate, on_bar
from swingflow_portfolio.ledger import Ledger, plan_bars

NO_BROKER = cast(NatsBroker, None)  # applying bars announces nothing


def test_a_plan_applies_bars_in_time_order_with_a_snapshot_per_bar_time() -> None:
    book, _ = allocate(confirmed(), Book.open(100_000), RISK)
    bars = [bar("AAPL", 2, 101, 102, 100, 101.5), bar("MSFT", 1, 50, 51, 49, 50),
            bar("AAPL", 1, 100, 103, 99, 102)]  # fmt: skip
    plan = plan_bars(book, bars, RISK)
    expected = book
    for b in sorted(bars, key=lambda b: (b.ts, b.symbol)):
        expected = on_bar(expected, b, RISK).book
    assert plan.start is book
    assert plan.book == expected
    assert [ts for _, ts in plan.snapshots] == [bars[2].ts, bars[0].ts]
    assert sum(len(o.fills) for o in plan.outcomes) == 1  # the entry at day 1's open


async def test_a_book_written_by_another_copy_meanwhile_is_planned_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await migrate_async(url)
    engine = engine_from_url(url)
    sessions = session_factory(engine)
    pending, _ = allocate(confirmed(), Book.open(100_000), RISK)
    days = [bar("AAPL", 1, 100, 103, 99, 102), bar("AAPL", 2, 101, 102, 100, 101.5),
            bar("AAPL", 3, 102, 103, 101, 102)]  # fmt: skip
    try:
        async with sessions.begin() as session:
            await lock_book(session, Book.open(100_000))
            await save_book(session, pending)
        first, other = Ledger(NO_BROKER, sessions, RISK), Ledger(NO_BROKER, sessions, RISK)
        await first.apply_bars([days[0]])  # `first` now knows the book it committed
        await other.apply_bars([days[1]])  # another copy writes
        applied = await first.apply_bars([days[2]])  # its known book is stale
        async with sessions() as session:
            stored = await read_book(session)
    finally:
        await engine.dispose()
    expected = pending
    for b in days:
        expected = on_bar(expected, b, RISK).book
    stale = on_bar(on_bar(pending, days[0], RISK).book, days[2], RISK).book  # day 2 lost
    assert stale != expected  # held 3 bars: the time exit, which a stale plan misses
    assert applied.book == expected
    assert stored == expected


async def test_a_process_first_write_makes_the_positions_table_match_its_book(
    tmp_path: Path,
) -> None:
    """Positions are skipped only after this process's own commit: its first write
    clears what the table held beside the book (a book row made anew, an old database)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await migrate_async(url)
    engine = engine_from_url(url)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as session:
            await lock_book(session, Book.open(100_000))  # a book without positions
            await session.execute(sa.insert(PositionRow).values(
                symbol="ZZZ", quantity=1, avg_price=1, last_price=1, stop=None, target=None,
                opened_at=bar("ZZZ", 0, 1, 1, 1, 1).ts, updated_at=bar("ZZZ", 0, 1, 1, 1, 1).ts,
            ))  # fmt: skip
        ledger = Ledger(NO_BROKER, sessions, RISK)
        await ledger.apply_bars([bar("MSFT", 1, 50, 51, 49, 50)])  # no position changes
        async with sessions() as session:
            left = (await session.scalars(sa.select(PositionRow.symbol))).all()
    finally:
        await engine.dispose()
    assert left == []

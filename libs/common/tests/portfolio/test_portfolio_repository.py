"""The book row on SQLite and PostgreSQL: created once, restored as stored, never a lost
update when writers race, and the positions, trades and snapshots that mirror it."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.db import engine_from_url, session_factory
from swingflow_common.db.models import PortfolioSnapshotRow, PositionRow, TradeRow
from swingflow_common.db.portfolio_repository import (
    close_trades,
    list_trades,
    lock_book,
    lock_book_at,
    open_trades,
    read_book,
    save_book,
    save_snapshot,
)
from swingflow_common.portfolio import Book, allocate, on_bar

from .factories import bar, day, risk, signal

Sessions = async_sessionmaker[AsyncSession]


async def test_the_first_lock_creates_the_book_and_later_ones_restore_it(
    db_sessions: Sessions,
) -> None:
    async with db_sessions.begin() as session:
        assert await read_book(session) is None
        book = await lock_book(session, Book.open(100_000))
        book, _ = allocate(signal(), book, risk())
        await save_book(session, book)

    async with db_sessions.begin() as session:
        again = await lock_book(session, Book.open(1.0))  # the initial book is ignored now

    assert again == book
    assert again.pending[0].allocation.symbol == "AAPL"


async def test_a_known_book_is_used_only_while_nobody_else_has_written(
    db_sessions: Sessions,
) -> None:
    async with db_sessions.begin() as session:
        version, book = await lock_book_at(session, Book.open(100_000))
        book, _ = allocate(signal(), book, risk())
        await save_book(session, book)
    mine = book.model_copy(update={"cash": -1.0})  # what this writer holds: not re-read
    async with db_sessions.begin() as session:
        version, got = await lock_book_at(session, Book.open(1.0), known=(version, mine))
    assert got is mine

    async with db_sessions.begin() as session:  # another writer commits meanwhile
        other = await lock_book(session, Book.open(1.0))
        await save_book(session, other.model_copy(update={"cash": 5.0}))
    async with db_sessions.begin() as session:
        later, got = await lock_book_at(session, Book.open(1.0), known=(version, mine))
    assert later == version + 2
    assert got.cash == 5.0  # read again: the stored book, not the known one


async def test_racing_writers_never_lose_an_update(database_url: str) -> None:
    engines = [engine_from_url(database_url) for _ in range(2)]  # like two replicas
    factories = [session_factory(e) for e in engines]

    async def add_one(sessions: Sessions) -> None:
        async with sessions.begin() as session:
            book = await lock_book(session, Book.open(0.0))
            await asyncio.sleep(0)  # let the other writer try to get in
            await save_book(session, book.model_copy(update={"cash": book.cash + 1}))

    try:
        await asyncio.gather(*(add_one(factories[i % 2]) for i in range(10)))
        async with factories[0]() as session:
            stored = await read_book(session)
    finally:
        for engine in engines:
            await engine.dispose()

    assert stored is not None
    assert stored.cash == 10.0


async def test_positions_trades_and_snapshots_follow_the_book(db_sessions: Sessions) -> None:
    book, _ = allocate(signal(), Book.open(100_000), risk())
    entered = on_bar(book, bar(1, 101, 103, 100, 102), risk())
    async with db_sessions.begin() as session:
        await lock_book(session, book)
        await open_trades(session, entered.opened)
        await save_book(session, entered.book)
        await save_snapshot(session, entered.book, day(1))

    async with db_sessions() as session:
        (position,) = (await session.scalars(sa.select(PositionRow))).all()
        (trade,) = await list_trades(session)
        snapshot = await session.get(PortfolioSnapshotRow, day(1))
    assert (position.symbol, position.quantity, position.last_price) == ("AAPL", 150, 102)
    assert (trade.status, trade.quantity) == ("open", 150)
    assert snapshot is not None
    assert snapshot.equity == pytest.approx(entered.book.equity)

    exited = on_bar(entered.book, bar(2, 102, 107, 100, 105), risk())
    async with db_sessions.begin() as session:
        await lock_book(session, entered.book)
        await close_trades(session, exited.closed)
        await save_book(session, exited.book)

    async with db_sessions() as session:
        assert (await session.get(PositionRow, "AAPL")) is None
        closed = await session.get(TradeRow, signal().id)
    assert closed is not None
    assert (closed.status, closed.exit_reason) == ("closed", "target")
    assert closed.pnl == pytest.approx(exited.closed[0].pnl)


async def test_positions_are_written_only_when_they_changed(db_sessions: Sessions) -> None:
    """`save_book(replaces=...)`: an allocation adds a pending entry, not a position, so
    the positions table is left alone; a mark rewrites it."""
    book, _ = allocate(signal(), Book.open(100_000), risk())
    entered = on_bar(book, bar(1, 101, 103, 100, 102), risk()).book
    async with db_sessions.begin() as session:
        await lock_book(session, book)
        await save_book(session, entered)
        # a reader's view put out of step, to see whether the next writes touch it
        await session.execute(sa.update(PositionRow).values(last_price=0.0))
    other = signal(symbol="MSFT")
    allocated, _ = allocate(other, entered, risk())
    assert allocated.positions == entered.positions
    assert await rewrite(db_sessions, entered, allocated) == 0.0  # untouched
    marked = on_bar(allocated, bar(2, 102, 104, 101, 103), risk()).book
    assert await rewrite(db_sessions, allocated, marked) == 103  # rewritten


async def rewrite(sessions: Sessions, stored: Book, book: Book) -> float | None:
    """Save `book` over `stored` (`replaces=stored`); AAPL's stored last price then."""
    async with sessions.begin() as session:
        await lock_book(session, stored)
        await save_book(session, book, replaces=stored)
    async with sessions() as session:
        row = await session.get(PositionRow, "AAPL")
    return None if row is None else row.last_price

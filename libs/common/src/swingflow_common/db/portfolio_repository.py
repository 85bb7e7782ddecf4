"""Storage of the paper portfolio: the book row (and its lock), positions, trades, snapshots.

The book of record is one row of `portfolio_book` holding the pure `portfolio.Book` as
JSON. A change to the book is one transaction that begins with `lock_book`:

    async with sessions.begin() as session:
        book = await lock_book(session, Book.open(risk.initial_cash))  # locked until commit
        book, allocation = allocate(signal, book, risk)                 # the pure domain
        await save_allocation(session, allocation)
        await save_book(session, book)
    await publish(js, subjects.ALLOCATIONS, allocation)                 # after the commit

`lock_book` starts with an UPDATE of the row, which takes a row lock on PostgreSQL and the
database write lock on SQLite before anything is read: two writers (two replicas, or two
handlers of one process) are serialized and never overwrite each other's book. The
`positions`, `trades` and `portfolio_snapshots` tables are views of the book kept for
readers (the gateway); the book row alone is enough to restore the service.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from swingflow_common.db.models import (
    FillRow,
    PortfolioBookRow,
    PortfolioSnapshotRow,
    PositionRow,
    TradeRow,
)
from swingflow_common.db.repository import _upsert
from swingflow_common.messages import utcnow
from swingflow_common.portfolio import Book, ClosedTrade, Position

BOOK_ID = "paper"

_TRADE_COLUMNS = ("status", "quantity", "exit_ts", "exit_price", "exit_reason", "pnl",
                  "return_pct", "costs", "updated_at")  # fmt: skip
_POSITION_COLUMNS = ("quantity", "avg_price", "last_price", "stop", "target", "opened_at",
                     "updated_at")  # fmt: skip
_SNAPSHOT_COLUMNS = ("cash", "equity", "positions_value", "drawdown", "positions")


async def _bump(session: AsyncSession, book_id: str) -> int | None:
    """Lock the row by adding one to its version; the new version, None without a row."""
    stmt = (
        sa.update(PortfolioBookRow)
        .where(PortfolioBookRow.id == book_id)
        .values(version=PortfolioBookRow.version + 1)
        .returning(PortfolioBookRow.version)
        .execution_options(synchronize_session=False)
    )
    version: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return version


def _book_row(book: Book, book_id: str) -> dict[str, Any]:
    return {
        "id": book_id,
        "cash": book.cash,
        "equity": book.equity,
        "state": book.model_dump(mode="json"),
        "updated_at": utcnow(),
    }


async def lock_book(session: AsyncSession, initial: Book, book_id: str = BOOK_ID) -> Book:
    """The stored book, locked until the transaction ends; `initial` the first time."""
    return (await lock_book_at(session, initial, book_id))[1]


async def lock_book_at(
    session: AsyncSession,
    initial: Book,
    book_id: str = BOOK_ID,
    known: tuple[int, Book] | None = None,
) -> tuple[int, Book]:
    """`lock_book`, with the row's version once locked. `known`: (version, book) as the
    caller's last committed transaction left them; when nobody has written since (the
    version is one more), that book is the stored one and is not read and parsed again."""
    version = await _bump(session, book_id)
    if version is None:
        await _upsert(session, PortfolioBookRow, [{**_book_row(initial, book_id), "version": 0}])
        version = await _bump(session, book_id)
        if version is None:
            raise RuntimeError(f"book {book_id!r} was not created")
    if known is not None and version == known[0] + 1:
        return version, known[1]
    query = sa.select(PortfolioBookRow.state).where(PortfolioBookRow.id == book_id)
    return version, Book.model_validate(await session.scalar(query))


async def read_book(session: AsyncSession, book_id: str = BOOK_ID) -> Book | None:
    """The stored book without locking it (for readers), or None before the first write."""
    query = sa.select(PortfolioBookRow.state).where(PortfolioBookRow.id == book_id)
    state = await session.scalar(query)
    return None if state is None else Book.model_validate(state)


async def save_book(
    session: AsyncSession, book: Book, book_id: str = BOOK_ID, replaces: Book | None = None
) -> None:
    """Write the book back (inside the transaction that locked it) and its open positions;
    `replaces`: the book as stored, when known, so that positions that did not change (an
    allocation only adds a pending entry) are not written again."""
    row = _book_row(book, book_id)
    del row["id"]
    await session.execute(
        sa.update(PortfolioBookRow)
        .where(PortfolioBookRow.id == book_id)
        .values(**row)
        .execution_options(synchronize_session=False)
    )
    if replaces is None or replaces.positions != book.positions:
        await save_positions(session, book.positions)


async def save_positions(session: AsyncSession, positions: Iterable[Position]) -> None:
    """Make the `positions` table hold exactly these positions."""
    held = list(positions)
    symbols = [p.symbol for p in held]
    await session.execute(
        sa.delete(PositionRow)
        .where(PositionRow.symbol.not_in(symbols))
        .execution_options(synchronize_session=False)
    )
    now = utcnow()
    rows = [
        {"symbol": p.symbol, "quantity": p.quantity, "avg_price": p.entry_price,
         "last_price": p.last_price, "stop": p.stop, "target": p.target,
         "opened_at": p.entry_ts, "updated_at": now}
        for p in held
    ]  # fmt: skip
    await _upsert(session, PositionRow, rows, update=_POSITION_COLUMNS)


async def open_trades(session: AsyncSession, positions: Iterable[Position]) -> None:
    """Record a trade per newly opened position (status `open`)."""
    now = utcnow()
    rows = [
        {"id": p.allocation_id, "signal_id": p.signal_id, "symbol": p.symbol, "setup": None,
         "status": "open", "quantity": p.quantity, "entry_ts": p.entry_ts,
         "entry_price": p.entry_price, "stop": p.stop, "target": p.target, "exit_ts": None,
         "exit_price": None, "exit_reason": None, "pnl": None, "return_pct": None,
         "costs": p.entry_commission + p.entry_slippage, "created_at": now, "updated_at": now}
        for p in positions
    ]  # fmt: skip
    await _upsert(session, TradeRow, rows)


async def close_trades(session: AsyncSession, trades: Iterable[ClosedTrade]) -> None:
    """Complete each trade with its exit (the row is created if it is not there yet)."""
    now = utcnow()
    rows = [
        {"id": t.id, "signal_id": t.signal_id, "symbol": t.symbol, "setup": None,
         "status": "closed", "quantity": t.quantity, "entry_ts": t.entry_ts,
         "entry_price": t.entry_price, "stop": None, "target": None, "exit_ts": t.exit_ts,
         "exit_price": t.exit_price, "exit_reason": t.exit_reason, "pnl": t.pnl,
         "return_pct": t.return_pct, "costs": t.costs, "created_at": now, "updated_at": now}
        for t in trades
    ]  # fmt: skip
    await _upsert(session, TradeRow, rows, update=_TRADE_COLUMNS)


async def save_snapshot(session: AsyncSession, book: Book, ts: datetime) -> None:
    """The book's value at bar time `ts` (a later write for the same time replaces it)."""
    positions = [
        {"symbol": p.symbol, "quantity": p.quantity, "last_price": p.last_price,
         "market_value": p.market_value}
        for p in book.positions
    ]  # fmt: skip
    row = {
        "ts": ts,
        "cash": book.cash,
        "equity": book.equity,
        "positions_value": book.positions_value,
        "drawdown": book.drawdown,
        "positions": positions,
    }
    await _upsert(session, PortfolioSnapshotRow, [row], update=_SNAPSHOT_COLUMNS)


async def list_trades(
    session: AsyncSession, status: str | None = None, limit: int = 50, offset: int = 0
) -> list[TradeRow]:
    """Paper trades, newest entry first (`status`: open, closed or both)."""
    query = sa.select(TradeRow)
    if status is not None:
        query = query.where(TradeRow.status == status)
    query = query.order_by(TradeRow.entry_ts.desc(), TradeRow.id).limit(limit).offset(offset)
    return list((await session.scalars(query)).all())


async def fills_at(session: AsyncSession, keys: Iterable[tuple[str, datetime]]) -> list[FillRow]:
    """The stored fills made on these bars (symbol, bar time), oldest first."""
    pairs = set(keys)
    if not pairs:
        return []
    query = sa.select(FillRow).where(
        FillRow.symbol.in_({s for s, _ in pairs}), FillRow.ts.in_({t for _, t in pairs})
    )
    rows = (await session.scalars(query.order_by(FillRow.ts, FillRow.id))).all()
    return [row for row in rows if (row.symbol, row.ts) in pairs]

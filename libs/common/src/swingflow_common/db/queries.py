"""Read-only queries for the gateway's REST API: symbol summaries, the funnel, the portfolio.

Beside `repository` (the writes and the per-message reads the services need), these are
the summaries a person looks at. Each is a few index-friendly statements that give the
same answer on SQLite and PostgreSQL; none scans the whole bars table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from swingflow_common.db.models import (
    AllocationRow,
    BarRow,
    PortfolioSnapshotRow,
    PositionRow,
    SignalRow,
    SymbolRow,
)
from swingflow_common.db.repository import SignalFilter


@dataclass(frozen=True)
class SymbolSummary:
    """One symbol's stored history at a glance: last close, and the change from the one before."""

    symbol: str
    bars: int
    last_ts: datetime | None
    last_close: float | None
    previous_close: float | None

    @property
    def change_pct(self) -> float | None:
        if self.last_close is None or not self.previous_close:
            return None
        return (self.last_close / self.previous_close - 1.0) * 100.0


async def _closes_at(
    session: AsyncSession, pairs: list[tuple[str, datetime]], interval: str
) -> dict[str, float]:
    """The close of each (symbol, ts) bar, by symbol."""
    if not pairs:
        return {}
    query = sa.select(BarRow.symbol, BarRow.close).where(
        BarRow.interval == interval, sa.tuple_(BarRow.symbol, BarRow.ts).in_(pairs)
    )
    return {symbol: float(close) for symbol, close in (await session.execute(query)).all()}


async def symbol_summaries(session: AsyncSession, interval: str = "1d") -> list[SymbolSummary]:
    """Every active symbol, with its bar count, last bar and previous close, by symbol."""
    stats = (
        sa.select(
            BarRow.symbol.label("symbol"),
            sa.func.count().label("bars"),
            sa.func.max(BarRow.ts).label("last_ts"),
        )
        .where(BarRow.interval == interval)
        .group_by(BarRow.symbol)
        .subquery()
    )
    rows = (
        await session.execute(
            sa.select(SymbolRow.symbol, stats.c.bars, stats.c.last_ts)
            .outerjoin(stats, stats.c.symbol == SymbolRow.symbol)
            .where(SymbolRow.active.is_(True))
            .order_by(SymbolRow.symbol)
        )
    ).all()
    last = {symbol: ts for symbol, _, ts in rows if ts is not None}
    previous_query = (
        sa.select(BarRow.symbol, sa.func.max(BarRow.ts))
        .join(stats, sa.and_(stats.c.symbol == BarRow.symbol, BarRow.ts < stats.c.last_ts))
        .where(BarRow.interval == interval)
        .group_by(BarRow.symbol)
    )
    previous = {symbol: ts for symbol, ts in (await session.execute(previous_query)).all()}
    last_close = await _closes_at(session, list(last.items()), interval)
    previous_close = await _closes_at(session, list(previous.items()), interval)
    return [
        SymbolSummary(
            symbol=symbol,
            bars=int(count or 0),
            last_ts=last.get(symbol),
            last_close=last_close.get(symbol),
            previous_close=previous_close.get(symbol),
        )
        for symbol, count, _ in rows
    ]


async def symbol_known(session: AsyncSession, symbol: str) -> bool:
    """True when the symbol has a row in `symbols`."""
    return await session.get(SymbolRow, symbol) is not None


async def latest_closes(
    session: AsyncSession, symbols: Iterable[str], interval: str = "1d"
) -> dict[str, float]:
    """The last stored close of each of `symbols` that has bars."""
    wanted = sorted(set(symbols))
    if not wanted:
        return {}
    last_query = (
        sa.select(BarRow.symbol, sa.func.max(BarRow.ts))
        .where(BarRow.interval == interval, BarRow.symbol.in_(wanted))
        .group_by(BarRow.symbol)
    )
    pairs = [(symbol, ts) for symbol, ts in (await session.execute(last_query)).all()]
    return await _closes_at(session, pairs, interval)


@dataclass(frozen=True)
class FunnelCounts:
    """Signals by status, and the evaluated ones by the stage (or `threshold`) that refused them."""

    by_status: dict[str, int]
    rejected_by: dict[str, int]


async def signal_funnel(
    session: AsyncSession, start: datetime | None = None, end: datetime | None = None
) -> FunnelCounts:
    """Counts of the signals whose bar time lies in [start, end] (either bound optional)."""
    query = sa.select(SignalRow.status, SignalRow.rejected_by, sa.func.count())
    if start is not None:
        query = query.where(SignalRow.ts >= start)
    if end is not None:
        query = query.where(SignalRow.ts <= end)
    by_status: dict[str, int] = {}
    rejected_by: dict[str, int] = {}
    for status, stage, count in await session.execute(
        query.group_by(SignalRow.status, SignalRow.rejected_by)
    ):
        by_status[status] = by_status.get(status, 0) + int(count)
        if status == "rejected" and stage is not None:
            rejected_by[stage] = rejected_by.get(stage, 0) + int(count)
    return FunnelCounts(by_status, rejected_by)


async def count_allocations(session: AsyncSession) -> int:
    query = sa.select(sa.func.count()).select_from(AllocationRow)
    return int(await session.scalar(query) or 0)


async def list_positions(session: AsyncSession) -> list[PositionRow]:
    """The paper portfolio's open positions, by symbol."""
    return list((await session.scalars(sa.select(PositionRow).order_by(PositionRow.symbol))).all())


async def latest_snapshot(session: AsyncSession) -> PortfolioSnapshotRow | None:
    """The newest portfolio snapshot (cash, equity), or None before the first one."""
    query = sa.select(PortfolioSnapshotRow).order_by(PortfolioSnapshotRow.ts.desc()).limit(1)
    return (await session.scalars(query)).first()


# Every column of a signal but its feature snapshot, which a list of signals never shows.
_LISTED = [c for c in SignalRow.__table__.columns if c.name != "features"]


def _listed(columns: Sequence[str] | None, json_text: bool) -> list[sa.ColumnElement[Any]]:
    """The selected columns: `columns` by name (default `_LISTED`), structured ones as text."""
    table = SignalRow.__table__.c
    chosen = _LISTED if columns is None else [table[name] for name in columns]
    if not json_text:
        return list(chosen)
    # CAST(... AS TEXT) hands back the stored JSON as it was written: a no-op on SQLite,
    # json -> text on PostgreSQL, and no driver decoding (asyncpg decodes json itself).
    return [sa.cast(c, sa.Text).label(c.name) if isinstance(c.type, sa.JSON) else c for c in chosen]


async def signal_page(
    session: AsyncSession,
    where: SignalFilter | None = None,
    limit: int = 50,
    offset: int = 0,
    after: tuple[datetime, str] | None = None,
    *,
    columns: Sequence[str] | None = None,
    json_text: bool = False,
) -> Sequence[Any]:
    """Signals matching `where`, newest bar first (ties by id, descending), as plain rows.

    For the API's lists: no ORM objects and no feature snapshots to decode, several times
    faster per row. Each row has the columns as attributes (`row.id`, `row.stages`, ...).
    `after` is a keyset cursor, the (ts, id) of the last row of the page before: the page
    then starts right after it, read from the index however deep it is, where an
    `offset` reads and skips every row before it. The order matches the indexes
    (ts, id), (status, ts, id) and (symbol, ts, id) read backwards, so no page sorts.

    `columns` names the columns to read (all but `features` by default); `json_text=True`
    gives the structured ones (`stages`, `weights`, ...) as their stored JSON text, for
    a caller that parses them itself (the gateway: pydantic-core parses and validates
    them several times faster than `json.loads` does).
    """
    query = sa.select(*_listed(columns, json_text)).where(*(where or SignalFilter()).where())
    if after is not None:
        query = query.where(sa.tuple_(SignalRow.ts, SignalRow.id) < sa.tuple_(*after))
    query = query.order_by(SignalRow.ts.desc(), SignalRow.id.desc()).limit(limit).offset(offset)
    # Core on the session's connection: the ORM's execute path adds nothing for plain rows.
    connection = await session.connection()
    return (await connection.execute(query)).all()

"""What the scanner reads back from the database: the symbols, and their recent bars."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.data.dataset import INDEX_NAME
from swingflow_common.db import repository
from swingflow_common.db.models import SymbolRow
from swingflow_common.messages import Bar
from swingflow_scanner.state import ScannerState

Sessions = async_sessionmaker[AsyncSession]
COLUMNS = ["open", "high", "low", "close", "volume"]


async def known_symbols(session: AsyncSession) -> list[str]:
    """Every symbol the database has a row for, sorted."""
    return list(
        (await session.scalars(sa.select(SymbolRow.symbol).order_by(SymbolRow.symbol))).all()
    )


async def recent_bars(
    sessions: Sessions, wanted: dict[str, int], before: datetime | None = None
) -> dict[str, list[Bar]]:
    """The last `wanted[symbol]` daily bars of each symbol (before `before`), oldest first."""
    out: dict[str, list[Bar]] = {}
    async with sessions() as session:
        for symbol, n in wanted.items():
            bars = await repository.latest_bars(session, symbol, n, before=before)
            if bars:
                out[symbol] = bars
    return out


async def rebuild(sessions: Sessions, state: ScannerState) -> int:
    """Load each stored symbol's bars into `state` (its analysis window if owned, else
    the bars a roc_63 needs); returns how many bars were loaded."""
    async with sessions() as session:
        symbols = await known_symbols(session)
    history = await recent_bars(sessions, {s: state.keep(s) for s in symbols})
    loaded: int = state.load(history.items())
    return loaded


def to_frame(bars: list[Bar]) -> pd.DataFrame:
    """Bars as a dataset frame: UTC index `ts`, float64 open/high/low/close/volume."""
    index = pd.DatetimeIndex([b.ts for b in bars], name=INDEX_NAME).tz_convert("UTC")
    values = [[b.open, b.high, b.low, b.close, b.volume] for b in bars]
    return pd.DataFrame(values, index=index.as_unit("ns"), columns=COLUMNS, dtype="float64")

"""A loaded set of daily bars: one frame per symbol, plus what was wrong with the source.

Every loader (the packaged real datasets, a user's folder, the synthetic generator)
returns a `Dataset`, so the scanner, the replay feed, the backtester and the CLI all read
bars the same way. See docs/architecture.md, "Market data".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

Adjustment: TypeAlias = Literal["raw", "split", "split_dividend", "close_only"]
"""How prices were adjusted for corporate actions.

`raw`: as traded (a split shows as a price jump); `split`: OHLC divided by later split
factors; `split_dividend`: also back-adjusted for dividends; `close_only`: only an
adjusted close is known, so open = high = low = close and volume is NaN.
"""

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
COLUMNS: tuple[str, ...] = (*PRICE_COLUMNS, "volume")
INDEX_NAME = "ts"

DateLike: TypeAlias = str | date | datetime | pd.Timestamp


class DataError(ValueError):
    """A source that cannot be read as bars (unreadable file, missing column, unknown name)."""


@dataclass(frozen=True)
class DataIssue:
    """One thing wrong with the source data, and what the loader did about it.

    `ts` is the bar's date, or None when the issue concerns the whole series. `symbol` is
    `"*"` for an issue of the whole universe (a session no symbol has). `action` is what
    was done: `reported` (left as is), `dropped`, `kept_last`, `swapped`, `widened`,
    `sorted` or `kept`.
    """

    symbol: str
    ts: pd.Timestamp | None
    kind: str
    message: str
    action: str = "reported"

    def __str__(self) -> str:
        when = self.ts.strftime("%Y-%m-%d") if self.ts is not None else "-"
        return f"{self.symbol} {when} {self.kind} ({self.action}): {self.message}"


def to_utc(value: DateLike) -> pd.Timestamp:
    """A timestamp in UTC; a naive value is read as UTC."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        return stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Daily bars for a universe of symbols.

    Each frame in `bars` has a tz-aware UTC `DatetimeIndex` named `ts` (the bar's open
    time, midnight UTC for daily bars), sorted and unique, and float64 columns `open high
    low close volume` (a source may add more, such as `adj_close`). Frames are never
    empty. Treat them as read-only: loaders cache and share them.
    """

    name: str
    bars: dict[str, pd.DataFrame]
    adjustment: Adjustment
    issues: tuple[DataIssue, ...] = ()
    description: str = ""

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols, sorted."""
        return tuple(sorted(self.bars))

    @cached_property
    def dates(self) -> pd.DatetimeIndex:
        """Every date on which at least one symbol has a bar, sorted."""
        naive = [pd.DatetimeIndex(f.index).tz_convert(None).to_numpy() for f in self.bars.values()]
        values = np.unique(np.concatenate(naive)) if naive else np.array([], "datetime64[ns]")
        return pd.DatetimeIndex(values, name=INDEX_NAME).tz_localize("UTC")

    def __len__(self) -> int:
        return len(self.bars)

    def slice(self, start: DateLike | None = None, end: DateLike | None = None) -> Dataset:
        """Bars with `start <= ts <= end` (either bound may be None); empty symbols leave."""
        lo = to_utc(start) if start is not None else None
        hi = to_utc(end) if end is not None else None
        bars: dict[str, pd.DataFrame] = {}
        for symbol, frame in self.bars.items():
            index = frame.index
            a = 0 if lo is None else int(index.searchsorted(lo, side="left"))
            b = len(index) if hi is None else int(index.searchsorted(hi, side="right"))
            if b > a:
                bars[symbol] = frame if (a, b) == (0, len(index)) else frame.iloc[a:b]

        def keep(issue: DataIssue) -> bool:
            if issue.symbol != "*" and issue.symbol not in bars:
                return False
            if issue.ts is None:
                return True
            return (lo is None or issue.ts >= lo) and (hi is None or issue.ts <= hi)

        issues = tuple(i for i in self.issues if keep(i))
        return replace(self, bars=bars, issues=issues)

    def asof(self, when: DateLike) -> Dataset:
        """The bars known by `when`: every bar whose open time `ts <= when`."""
        return self.slice(None, when)

    def select(self, symbols: Iterable[str]) -> Dataset:
        """Only `symbols` (upper-cased), in the order given; unknown symbols are a KeyError."""
        wanted = [s.upper() for s in symbols]
        unknown = [s for s in wanted if s not in self.bars]
        if unknown:
            raise KeyError(f"{self.name} has no symbol(s) {', '.join(unknown)}")
        bars = {s: self.bars[s] for s in wanted}
        issues = tuple(i for i in self.issues if i.symbol == "*" or i.symbol in bars)
        return replace(self, bars=bars, issues=issues)

    def panel(self, column: str = "close") -> pd.DataFrame:
        """One column of every symbol as a date x symbol frame (NaN where a symbol has no bar)."""
        if not self.bars:
            return pd.DataFrame(index=self.dates)
        missing = [s for s, f in self.bars.items() if column not in f.columns]
        if missing:
            raise KeyError(f"column {column!r} is missing for {', '.join(missing[:5])}")
        series = {s: self.bars[s][column] for s in self.symbols}
        out = pd.concat(series, axis=1).reindex(self.dates)
        out.index.name = INDEX_NAME
        out.columns.name = "symbol"
        return out

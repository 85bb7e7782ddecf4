"""Each symbol's recent bars in memory, as growable column arrays the analysis reads.

A bar is new when it is later than the symbol's last bar. The same bar again (same time,
same values) is a duplicate and ignored; the last bar with other values is a correction
and replaces it; any other earlier bar arrived late or out of order and is refused. Every
change made for one batch can be rolled back (when the batch's database write fails), so
the book never gets ahead of the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

import numpy as np
import numpy.typing as npt

from swingflow_common.analysis.base import OHLCV
from swingflow_common.messages import Bar

Row = tuple[float, float, float, float, float]


class Fit(Enum):
    NEW = "new"
    CORRECTION = "corrected"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bar_ns(bar: Bar) -> int:
    """The bar's open time as int nanoseconds since the epoch (UTC), in exact integers."""
    return bar_ns_at(bar.ts)


def bar_ns_at(ts: datetime) -> int:
    """A UTC time as int nanoseconds since the epoch, in exact integers (see `bar_ns`)."""
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1_000


def bar_row(bar: Bar) -> Row:
    return (bar.open, bar.high, bar.low, bar.close, bar.volume)


@dataclass(frozen=True)
class Mark:
    """A symbol's state before a batch touched it: its length and last row."""

    length: int
    last: Row | None


class SymbolBars:
    """One symbol's bars: int64 ns times and an (n, 5) float64 block, oldest first."""

    def __init__(self, capacity: int = 256) -> None:
        self._ts = np.empty(capacity, np.int64)
        self._cols = np.empty((5, capacity), np.float64)  # one contiguous row per column
        self.n = 0

    def __len__(self) -> int:
        return self.n

    @property
    def ts(self) -> npt.NDArray[np.int64]:
        return self._ts[: self.n]

    @property
    def close(self) -> npt.NDArray[np.float64]:
        return self._cols[3, : self.n]

    def row(self, i: int) -> Row:
        o, h, low, c, v = (float(x) for x in self._cols[:, i])
        return (o, h, low, c, v)

    def mark(self) -> Mark:
        return Mark(self.n, self.row(self.n - 1) if self.n else None)

    def restore(self, mark: Mark) -> None:
        self.n = mark.length
        if mark.last is not None:
            self._cols[:, self.n - 1] = mark.last

    def fit(self, ns: int, row: Row) -> Fit:
        """Where a bar at `ns` with `row` fits, without changing anything."""
        if self.n == 0 or ns > self._ts[self.n - 1]:
            return Fit.NEW
        i = int(np.searchsorted(self.ts, ns))
        if i < self.n and self._ts[i] == ns:
            if self.row(i) == row:
                return Fit.DUPLICATE
            if i == self.n - 1:
                return Fit.CORRECTION
        return Fit.OUT_OF_ORDER

    def index_of(self, ns: int) -> int | None:
        i = int(np.searchsorted(self.ts, ns))
        return i if i < self.n and self._ts[i] == ns else None

    def append(self, ns: int, row: Row) -> int:
        """Add a bar after the last; returns its index."""
        if self.n == self._ts.shape[0]:
            self._grow()
        self._ts[self.n] = ns
        self._cols[:, self.n] = row
        self.n += 1
        return self.n - 1

    def replace_last(self, row: Row) -> int:
        self._cols[:, self.n - 1] = row
        return self.n - 1

    def _grow(self) -> None:
        capacity = max(16, 2 * self._ts.shape[0])
        ts = np.empty(capacity, np.int64)
        cols = np.empty((5, capacity), np.float64)
        ts[: self.n] = self._ts[: self.n]
        cols[:, : self.n] = self._cols[:, : self.n]
        self._ts, self._cols = ts, cols

    def trim(self, keep: int) -> None:
        """Keep only the last `keep` bars."""
        if self.n <= keep:
            return
        drop = self.n - keep
        self._ts[:keep] = self._ts[drop : self.n]
        self._cols[:, :keep] = self._cols[:, drop : self.n]
        self.n = keep

    def ohlcv(self) -> OHLCV:
        """All bars as an OHLCV of contiguous views (valid until the next change)."""
        n = self.n
        c = self._cols
        return OHLCV(
            self._ts[:n].view("datetime64[ns]"), c[0, :n], c[1, :n], c[2, :n], c[3, :n], c[4, :n]
        )
